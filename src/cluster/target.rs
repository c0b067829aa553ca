//! Where kompile talks to, by name: shared by the client that connects and by the messages
//! that say where a request went, so neither has to import the other.

/// The names of where kompile talks to, for messages. Never holds a credential.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub server: String,
    pub user: String,
    pub namespace: String,
    /// The program of the user's exec credential plugin, if any (never its arguments).
    pub plugin: Option<String>,
}
