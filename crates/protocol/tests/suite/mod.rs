mod schema_drift;
mod wire_shapes;
