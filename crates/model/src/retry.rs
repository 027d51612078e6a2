//! Retry timing: exponential backoff with jitter, and delays the server asks for
//! (`Retry-After` seconds or HTTP-date, "try again in 1.5s" in rate-limit messages).

use std::time::{Duration, SystemTime};

use rand::Rng;

const BASE_DELAY_MS: f64 = 200.0;
/// Longest backoff or server-requested wait we honour; beyond it a turn looks hung.
pub const MAX_DELAY: Duration = Duration::from_secs(120);

/// `200ms * 2^(attempt-1)` with ±10% jitter (attempt is 1-based), capped at [`MAX_DELAY`].
pub fn backoff(attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let jitter = rand::thread_rng().gen_range(0.9..1.1);
    let ms = BASE_DELAY_MS * f64::from(1u32 << exponent) * jitter;
    Duration::from_secs_f64(ms / 1000.0).min(MAX_DELAY)
}

/// Parses a `Retry-After` value: delta-seconds (fractions tolerated) or an HTTP-date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs).min(MAX_DELAY));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let target = SystemTime::from(date);
    Some(
        target
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_DELAY),
    )
}

/// Finds "try again in <N><unit>" in a rate-limit message (`ms`, `s`, `sec`, `seconds`).
pub fn parse_rate_limit_delay(message: &str) -> Option<Duration> {
    const MARKER: &str = "try again in";
    let lower = message.to_ascii_lowercase();
    let start = lower.find(MARKER)? + MARKER.len();
    let rest = lower[start..].trim_start();
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let value: f64 = rest[..number_len].parse().ok()?;
    let unit = rest[number_len..].trim_start();
    let seconds = if unit.starts_with("ms") || unit.starts_with("millisecond") {
        value / 1000.0
    } else if unit.starts_with('s') {
        value
    } else {
        return None;
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds).min(MAX_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter() {
        for attempt in 1..=5 {
            let nominal = 200.0 * f64::from(1u32 << (attempt - 1));
            let ms = backoff(attempt).as_secs_f64() * 1000.0;
            assert!(
                ms >= nominal * 0.9 - 1.0 && ms <= nominal * 1.1 + 1.0,
                "{attempt}: {ms}"
            );
        }
        assert_eq!(backoff(100), MAX_DELAY);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:39 GMT", now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("100000", now), Some(MAX_DELAY));
    }

    #[test]
    fn rate_limit_messages() {
        let msg =
            "Rate limit reached for gpt-5 on tokens per min. Please try again in 1.5s. Visit ...";
        assert_eq!(
            parse_rate_limit_delay(msg),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_rate_limit_delay("Please try again in 250ms."),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_rate_limit_delay("Try again in 2 seconds"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(parse_rate_limit_delay("try again later"), None);
        assert_eq!(parse_rate_limit_delay("no hint"), None);
    }
}
