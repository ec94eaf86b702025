package dns

import (
	"github.com/mamori-sec/mamori/internal/event"
)

// parsePacketbeat reads a Packetbeat (network_traffic.dns) document. It is
// ECS already, so it passes through as it is; only event.dataset becomes
// this dataset's (data_stream.dataset keeps Packetbeat's name) and the
// categorisation is filled where the document lacks it.
func parsePacketbeat(data []byte) (*event.Event, error) {
	ev := event.New(64)
	if err := ev.UnmarshalJSON(data); err != nil {
		return nil, errorf("packetbeat document: %w", err)
	}
	if !ev.Has("dns.question.name") && !ev.Has("dns.type") && !ev.Has("dns.id") {
		return nil, errorf("JSON document has no dns fields: not a Packetbeat DNS document")
	}
	ev.Set(event.FieldDataset, Name)
	ev.SetIfAbsent("event.kind", "event")
	ev.SetIfAbsent("event.category", []string{"network"})
	ev.SetIfAbsent("event.type", []string{"protocol"})
	// Every event of this dataset is DNS, whatever a document claims.
	ev.Set("network.protocol", "dns")
	// As for the log formats, the queried name is a related host.
	if name := ev.String("dns.question.name"); name != "" {
		ev.Append(event.RelatedHosts, name)
	}
	return ev, nil
}
