package alert

import (
	"context"
	"errors"
	"time"
)

// Notifier delivers notifications to one receiver (internal/notify).
type Notifier interface {
	// Name is the notifier's configured name, the outbox's key for it.
	Name() string
	// Notify delivers one notification. A nil error means the receiver has
	// it. Errors are retried with back-off unless marked Permanent; a
	// RetryAfter error says when to try again. Errors must not carry
	// secrets: they are stored and logged.
	Notify(ctx context.Context, n Notification) error
}

// Notification is one outbox row on its way to a receiver.
type Notification struct {
	// ID is the outbox row's id: stable across retries and restarts, so a
	// receiver can use it to drop repeats (the webhook's Idempotency-Key).
	ID   string
	Kind Kind
	// Alert is the alert as it was when the notification was queued.
	Alert Alert
	// NotifiedCount is the alert's event count as this receiver last
	// heard it (0 before the first delivery): Alert.EventCount minus
	// NotifiedCount events are news.
	NotifiedCount int64
	// Attempt counts delivery attempts, this one included.
	Attempt int
}

// DeliveryError qualifies a failed delivery for the Sender.
type DeliveryError struct {
	Err error
	// Permanent failures are not retried: the receiver refused the
	// notification itself (PagerDuty 400) or is gone (Slack 404/410).
	Permanent bool
	// RetryAfter, when positive, is the wait the receiver asked for (429).
	RetryAfter time.Duration
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &DeliveryError{Err: err, Permanent: true} }

// RetryAfter marks err as retryable after d.
func RetryAfter(err error, d time.Duration) error { return &DeliveryError{Err: err, RetryAfter: d} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var d *DeliveryError
	return errors.As(err, &d) && d.Permanent
}

func retryAfter(err error) time.Duration {
	var d *DeliveryError
	if errors.As(err, &d) {
		return d.RetryAfter
	}
	return 0
}
