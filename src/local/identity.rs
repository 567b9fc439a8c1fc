//! Who is calling, and in which account: base access keys map to the account that owns them,
//! temporary keys issued by STS `AssumeRole` map to the role's account (and only with their own
//! session token, until they expire), and roles decide whom they admit. This is the state behind
//! [`super::sts`] and behind every Service Catalog request's choice of catalog; the wire formats
//! of both live elsewhere.
//!
//! Issued sessions are kept in memory, bounded: the oldest are forgotten first once
//! [`MAX_SESSIONS`] is reached, so a client that assumes roles in a loop cannot grow the server
//! without limit (a forgotten key is then refused like any unknown one).

use super::accounts::{DEFAULT_ACCOUNT, ONE_HOUR, SeedAccount};
use super::faults::SplitMix64;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most sessions remembered at once.
pub const MAX_SESSIONS: usize = 100_000;

/// The identity behind a request's access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account: String,
    /// `arn:aws:iam::ACCOUNT:user/NAME` for base keys, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/
    /// SESSION` for issued ones.
    pub arn: String,
    /// GetCallerIdentity's `UserId`: `AIDA…` for a user, `AROA…:SESSION` for a role session.
    pub user_id: String,
    /// True for credentials AssumeRole issued: assuming a role with them is role chaining.
    pub assumed: bool,
}

/// Why an access key is refused; each protocol words it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown key, or a temporary key without its own session token.
    Unrecognized,
    /// A temporary key past its expiration.
    Expired,
}

/// Why AssumeRole refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Unknown role, untrusted caller, missing or wrong external id: AWS does not say which.
    AccessDenied,
    /// A duration the role (or role chaining) does not allow; the message is STS's.
    Duration(&'static str),
}

/// Credentials AssumeRole issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Seconds since the epoch.
    pub expiration: u64,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
    pub account: String,
}

#[derive(Debug)]
struct Role {
    account: String,
    name: String,
    /// `AROA` plus 17 characters, stable for the role.
    id: String,
    trusted: Vec<String>,
    external_id: Option<String>,
    max_session: u32,
}

#[derive(Debug, Clone)]
struct Session {
    principal: Principal,
    token: String,
    expires: SystemTime,
}

#[derive(Debug, Default)]
struct Sessions {
    by_key: HashMap<String, Session>,
    /// Keys in issue order, for forgetting the oldest.
    order: VecDeque<String>,
}

/// Accounts, keys, roles and issued sessions.
#[derive(Debug)]
pub struct Directory {
    /// Original-form seed: every base key is the default account's.
    open: bool,
    /// account id → name, in seed order.
    accounts: Vec<(String, String)>,
    key_owner: HashMap<String, usize>,
    /// role ARN → role.
    roles: HashMap<String, Role>,
    sessions: Mutex<Sessions>,
    rng: Mutex<SplitMix64>,
}

/// `prefix` plus `len` characters of `alphabet`, derived from `seed` text (stable ids).
fn derived(prefix: &str, seed: &str, len: usize, alphabet: &[u8]) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut out = String::from(prefix);
    for i in 0..len {
        let b = digest[i % digest.len()].wrapping_add((i / digest.len()) as u8);
        out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
    }
    out
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Directory {
    /// The directory of an original-form seed: one account, any base key.
    pub fn open() -> Directory {
        Directory {
            open: true,
            accounts: vec![(DEFAULT_ACCOUNT.to_string(), "default".to_string())],
            key_owner: HashMap::new(),
            roles: HashMap::new(),
            sessions: Mutex::default(),
            rng: Mutex::new(SplitMix64::new(entropy())),
        }
    }

    /// The directory of an accounts-form seed (already validated).
    pub fn of(accounts: &[SeedAccount]) -> Directory {
        let mut d = Directory {
            open: false,
            accounts: accounts
                .iter()
                .map(|a| (a.id.clone(), a.name().to_string()))
                .collect(),
            ..Directory::open()
        };
        for (i, a) in accounts.iter().enumerate() {
            for key in &a.access_keys {
                d.key_owner.insert(key.clone(), i);
            }
            for r in &a.roles {
                let arn = role_arn(&a.id, &r.name);
                let trusted = if r.trusted_accounts.is_empty() {
                    vec![a.id.clone()]
                } else {
                    r.trusted_accounts.clone()
                };
                d.roles.insert(
                    arn.clone(),
                    Role {
                        account: a.id.clone(),
                        name: r.name.clone(),
                        id: derived("AROA", &arn, 17, UPPER_ALNUM),
                        trusted,
                        external_id: r.external_id.clone(),
                        max_session: r.max_session_duration,
                    },
                );
            }
        }
        d
    }

    /// Who `access_key_id` (with the request's `X-Amz-Security-Token`, if any) is.
    pub fn identify(
        &self,
        access_key_id: &str,
        security_token: Option<&str>,
    ) -> Result<Principal, Refusal> {
        if access_key_id.starts_with("ASIA") {
            let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = sessions.by_key.get(access_key_id) {
                // A temporary key is only valid together with its own token.
                if security_token != Some(s.token.as_str()) {
                    return Err(Refusal::Unrecognized);
                }
                if SystemTime::now() >= s.expires {
                    return Err(Refusal::Expired);
                }
                return Ok(s.principal.clone());
            }
        }
        let index = if self.open {
            0
        } else {
            *self
                .key_owner
                .get(access_key_id)
                .ok_or(Refusal::Unrecognized)?
        };
        let (account, name) = &self.accounts[index];
        Ok(Principal {
            account: account.clone(),
            arn: format!("arn:aws:iam::{account}:user/{name}"),
            user_id: derived("AIDA", &format!("{account}/{name}"), 17, UPPER_ALNUM),
            assumed: false,
        })
    }

    /// AssumeRole: checks trust, external id and duration, then issues credentials bound to the
    /// role's account.
    pub fn assume(
        &self,
        caller: &Principal,
        role_arn: &str,
        session_name: &str,
        external_id: Option<&str>,
        duration: Option<u32>,
    ) -> Result<Issued, Denial> {
        let role = self.roles.get(role_arn).ok_or(Denial::AccessDenied)?;
        if !role.trusted.contains(&caller.account) {
            return Err(Denial::AccessDenied);
        }
        if let Some(required) = &role.external_id
            && external_id != Some(required.as_str())
        {
            return Err(Denial::AccessDenied);
        }
        let seconds = duration.unwrap_or(ONE_HOUR);
        if caller.assumed && seconds > ONE_HOUR {
            return Err(Denial::Duration(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            ));
        }
        if seconds > role.max_session {
            return Err(Denial::Duration(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let (access_key_id, secret_access_key, session_token) = self.fresh_keys();
        let expires = SystemTime::now() + Duration::from_secs(u64::from(seconds));
        let arn = format!(
            "arn:aws:sts::{}:assumed-role/{}/{session_name}",
            role.account, role.name
        );
        let user_id = format!("{}:{session_name}", role.id);
        let principal = Principal {
            account: role.account.clone(),
            arn: arn.clone(),
            user_id: user_id.clone(),
            assumed: true,
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        while sessions.by_key.len() >= MAX_SESSIONS {
            let Some(oldest) = sessions.order.pop_front() else {
                break;
            };
            sessions.by_key.remove(&oldest);
        }
        sessions.order.push_back(access_key_id.clone());
        sessions.by_key.insert(
            access_key_id.clone(),
            Session {
                principal,
                token: session_token.clone(),
                expires,
            },
        );
        Ok(Issued {
            access_key_id,
            secret_access_key,
            session_token,
            expiration: expires
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            assumed_role_arn: arn,
            assumed_role_id: user_id,
            account: role.account.clone(),
        })
    }

    /// Ends every issued session now: the next request with one answers as an expired token
    /// does, which is how a test makes a credentials provider refresh.
    pub fn expire_sessions(&self) {
        let now = SystemTime::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        for s in sessions.by_key.values_mut() {
            s.expires = now;
        }
    }

    /// Sessions currently remembered.
    pub fn session_count(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_key
            .len()
    }

    /// Unique key id (`ASIA` + 16), secret (40) and session token, shaped like STS's.
    fn fresh_keys(&self) -> (String, String, String) {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut pick = |alphabet: &[u8], len: usize| -> String {
            (0..len)
                .map(|_| char::from(alphabet[(rng.next_u64() % alphabet.len() as u64) as usize]))
                .collect()
        };
        let key = format!("ASIA{}", pick(UPPER_ALNUM, 16));
        let secret = pick(BASE64, 40);
        // Real tokens start with the base64 of a version marker and run to hundreds of
        // characters; clients must not assume a length, so this one is long too.
        let token = format!("IQoJb3JpZ2luX2Vj{}", pick(BASE64, 340));
        (key, secret, token)
    }
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// Time and address entropy, so two servers in one process issue different keys.
fn entropy() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let local = 0u8;
    nanos ^ (&local as *const u8 as u64).rotate_left(29)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::accounts::SeedRole;

    fn directory() -> Directory {
        Directory::of(&[
            SeedAccount::new("111111111111").with_access_key("AKIDHUB"),
            SeedAccount::new("222222222222").with_role(
                SeedRole::new("Admin")
                    .trusting("111111111111")
                    .with_external_id("x-1"),
            ),
        ])
    }

    #[test]
    fn issued_keys_belong_to_the_role_account_and_need_their_token() {
        let d = directory();
        let hub = d.identify("AKIDHUB", None).expect("hub key");
        assert_eq!(hub.account, "111111111111");
        assert_eq!(d.identify("AKIDNOBODY", None), Err(Refusal::Unrecognized));
        let arn = role_arn("222222222222", "Admin");
        assert_eq!(
            d.assume(&hub, &arn, "s1", None, None),
            Err(Denial::AccessDenied)
        );
        let issued = d
            .assume(&hub, &arn, "s1", Some("x-1"), None)
            .expect("issued");
        assert!(issued.access_key_id.starts_with("ASIA") && issued.access_key_id.len() == 20);
        let spoke = d
            .identify(&issued.access_key_id, Some(&issued.session_token))
            .expect("issued key");
        assert_eq!(
            (spoke.account.as_str(), spoke.assumed),
            ("222222222222", true)
        );
        assert_eq!(
            d.identify(&issued.access_key_id, None),
            Err(Refusal::Unrecognized)
        );
        d.expire_sessions();
        assert_eq!(
            d.identify(&issued.access_key_id, Some(&issued.session_token)),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn durations_follow_the_role_and_role_chaining() {
        let d = directory();
        let hub = d.identify("AKIDHUB", None).expect("hub key");
        let arn = role_arn("222222222222", "Admin");
        assert!(matches!(
            d.assume(&hub, &arn, "s", Some("x-1"), Some(7200)),
            Err(Denial::Duration(m)) if m.contains("MaxSessionDuration")
        ));
        let chained = Principal {
            assumed: true,
            account: "111111111111".into(),
            ..hub
        };
        assert!(matches!(
            d.assume(&chained, &arn, "s", Some("x-1"), Some(3601)),
            Err(Denial::Duration(m)) if m.contains("role chaining")
        ));
    }
}
