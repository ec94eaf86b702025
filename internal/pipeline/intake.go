package pipeline

import (
	"context"
	"fmt"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/queue"
)

// Intake is the Sink every listener writes to: it archives a batch as one
// object, then announces the object on the queue. Write returns nil only
// once both are durable, so a listener may acknowledge its sender.
type Intake struct {
	Archive *archive.Archive
	Queue   *queue.Local
	Metrics *metrics.Metrics
	// MaxPendingBytes refuses new batches (intake.ErrBusy) while this many
	// bytes of archived objects wait to be processed; 0 never refuses.
	MaxPendingBytes int64
}

// Write implements intake.Sink.
func (in *Intake) Write(ctx context.Context, b intake.Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	if in.MaxPendingBytes > 0 {
		if _, bytes := in.Queue.Pending(); bytes > in.MaxPendingBytes {
			return fmt.Errorf("%d bytes wait to be processed: %w", bytes, intake.ErrBusy)
		}
	}
	obj, err := in.Archive.Put(ctx, b)
	if err != nil {
		return fmt.Errorf("archive %s batch: %w", b.Dataset, err)
	}
	// If we crash between Put and Publish, the object is found again by the
	// start-up scan of raw/: it is durable, so the sender may be told so.
	if err := in.Queue.Publish(ctx, queue.Notification{Key: obj.Key, Dataset: b.Dataset, Size: obj.Bytes, Created: obj.Created}); err != nil {
		return fmt.Errorf("announce %s: %w", obj.Key, err)
	}
	if in.Metrics != nil {
		in.Metrics.RecordsReceived.WithLabelValues(b.Dataset, b.Listener).Add(float64(len(b.Records)))
		in.Metrics.BytesArchived.WithLabelValues(b.Dataset).Add(float64(obj.Bytes))
		in.Metrics.ObjectsArchived.WithLabelValues(b.Dataset).Inc()
	}
	return nil
}
