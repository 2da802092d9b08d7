package channel

import (
	"fmt"
	"time"
)

// DeliveryState is how far an outbound message got.
type DeliveryState uint8

// Delivery states. The zero value, Pending, means recorded but not yet
// accepted by the provider. Sent, Delivered, Read and Played form a
// progression; Failed ends it unless a later report shows the message
// arrived after all (a user with several devices may produce both).
const (
	Pending DeliveryState = iota
	Sent
	Delivered
	Read
	Played // a voice note was played
	Failed
)

var deliveryStateNames = [...]string{"pending", "sent", "delivered", "read", "played", "failed"}

// String returns the lower-case name of s.
func (s DeliveryState) String() string {
	if int(s) < len(deliveryStateNames) {
		return deliveryStateNames[s]
	}
	return fmt.Sprintf("DeliveryState(%d)", uint8(s))
}

// ParseDeliveryState parses the name [DeliveryState.String] returns.
func ParseDeliveryState(name string) (DeliveryState, error) {
	for i, n := range deliveryStateNames {
		if n == name {
			return DeliveryState(i), nil
		}
	}
	return 0, fmt.Errorf("channel: unknown delivery state %q", name)
}

// MarshalText implements [encoding.TextMarshaler].
func (s DeliveryState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (s *DeliveryState) UnmarshalText(b []byte) error {
	v, err := ParseDeliveryState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Status is a delivery report for an outbound message. Providers deliver
// them at least once and in no guaranteed order; consumers merge them so
// that a state never moves backwards (see store.Delivery.Merge).
type Status struct {
	// MessageID is the provider's id of the outbound message.
	MessageID MessageID `json:"message_id"`
	// Recipient is who the message was sent to; its Tenant is the sending
	// business.
	Recipient Address       `json:"recipient"`
	State     DeliveryState `json:"state"`
	Time      time.Time     `json:"time"`
	// Correlation echoes Outbound.Correlation of the message.
	Correlation string `json:"correlation,omitempty"`
	// Errors explain a Failed state.
	Errors []ErrorInfo `json:"errors,omitempty"`
}

// ErrorInfo is a problem a provider reported in a webhook: with a message, a
// status, or the delivery as a whole.
type ErrorInfo struct {
	Code   int    `json:"code"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}
