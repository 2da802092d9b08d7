package logkey

// Attribute keys.
const (
	Tenant       = "tenant"
	Channel      = "channel"
	Address      = "address"
	Conversation = "conversation"
	Message      = "message"     // store record id
	ProviderID   = "provider_id" // the channel provider's message id
	Duplicate    = "duplicate"
	Provider     = "provider" // model provider name
	Tool         = "tool"
	Step         = "step"
	Steps        = "steps"
	State        = "state"
	Reason       = "reason"
	Code         = "code"
	Duration     = "duration"
	Error        = "err"
	Op           = "op"          // the provider operation, such as "send" or "media"
	Attempt      = "attempt"     // the number of a try, from 1
	HTTPStatus   = "http_status" // the status of a provider's answer
	Messages     = "messages"    // a count of messages
	Statuses     = "statuses"    // a count of statuses
	Errors       = "errors"      // a count of errors
	Field        = "field"       // a webhook change's field
	Request      = "request"     // a privacy request id (random, not personal)
)
