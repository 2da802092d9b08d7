// Package redact finds personal data and secrets in text and replaces
// them with placeholders before the text reaches a model, and, for the
// kinds that must never be kept, before it reaches the store.
//
// A [Redactor] recognizes the kinds listed by [Kinds]: secrets (API keys,
// tokens, private keys), passwords, payment cards (Luhn-checked), IBANs
// (mod-97-checked), e-mail addresses, Peruvian RUC and DNI numbers, and
// phone numbers, in English, Spanish and Portuguese contexts. Each kind
// has a [Mode]: [Restore] shows the model a placeholder such as
// <EMAIL_1> and puts the value back in the reply; [Mask] shows the model a
// placeholder and keeps only a masked form ("•••• 4242") anywhere; [Off]
// leaves it alone. [DefaultModes] masks cards, passwords and secrets and
// restores the rest; [Config] overrides modes globally and per tenant.
//
// The agent applies it through agent.PrivacyConfig.Redactor; nothing here
// depends on the agent. A Redactor is safe for concurrent use; a
// [Session] holds the placeholders of one turn.
package redact
