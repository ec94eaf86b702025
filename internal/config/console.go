package config

import (
	"errors"
	"fmt"
	"time"
)

// Console configures the web console served at / (docs/console.md).
type Console struct {
	// StaleAfter flags a dataset on the Sources page when none of its
	// events has been stored for this long (default 1h; 0 never flags).
	StaleAfter *Duration `yaml:"stale_after"`
	// StaleAfterPerDataset overrides StaleAfter for some datasets (a quiet
	// DHCP server, a SaaS log polled hourly); 0 never flags that dataset.
	StaleAfterPerDataset map[string]Duration `yaml:"stale_after_per_dataset"`
}

// defaultStaleAfter is how long a dataset may go without events before
// the console flags it.
const defaultStaleAfter = time.Hour

// StaleFor is how long the dataset may go without a stored event before it
// is flagged stale; 0 means never.
func (c Console) StaleFor(dataset string) time.Duration {
	if d, ok := c.StaleAfterPerDataset[dataset]; ok {
		return time.Duration(d)
	}
	if c.StaleAfter == nil {
		return defaultStaleAfter
	}
	return time.Duration(*c.StaleAfter)
}

func (c Console) validate() []error {
	var errs []error
	if c.StaleAfter != nil && *c.StaleAfter < 0 {
		errs = append(errs, errors.New("console.stale_after: must not be negative"))
	}
	for name, d := range c.StaleAfterPerDataset {
		if !datasetName.MatchString(name) {
			errs = append(errs, fmt.Errorf("console.stale_after_per_dataset: %q is not a dataset name", name))
		}
		if d < 0 {
			errs = append(errs, fmt.Errorf("console.stale_after_per_dataset.%s: must not be negative", name))
		}
	}
	return errs
}
