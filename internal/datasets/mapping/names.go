package mapping

import (
	"errors"
	"fmt"
	"strings"
)

// validName checks a dataset name by the rule the built-in names follow:
// lower-case letters, digits and underscores, in parts separated by dots,
// starting with a letter ("acme.firewall", "trendmicro.deepsecurity_custom").
// Such a name is also valid as an archive key segment.
func validName(name string) error {
	if len(name) > 128 {
		return fmt.Errorf("%q is longer than 128 bytes", name)
	}
	for i, part := range strings.Split(name, ".") {
		if part == "" {
			return fmt.Errorf("%q has an empty part (a leading, trailing or double dot)", name)
		}
		for j := 0; j < len(part); j++ {
			c := part[j]
			switch {
			case c >= 'a' && c <= 'z', c == '_', c >= '0' && c <= '9' && (i > 0 || j > 0):
			default:
				return fmt.Errorf("%q: use lower-case letters, digits and underscores in parts separated by dots, starting with a letter (e.g. acme.firewall)", name)
			}
		}
	}
	return nil
}

// reserved are fields the pipeline owns: event.id and event.ingested are
// derived for every event, and event.dataset is the dataset's name.
var reserved = map[string]string{
	"event.id":       "the pipeline derives it from where the record was read",
	"event.ingested": "the pipeline sets it when the record is processed",
	"event.dataset":  "it is the dataset's name",
}

// validTarget checks a field a mapping writes: "@timestamp", or dotted
// parts of letters, digits, '_' and '-' ("source.ip", "acme.ruleName").
func validTarget(f string) error {
	if f == "@timestamp" {
		return nil
	}
	if why, ok := reserved[f]; ok {
		return fmt.Errorf("%s cannot be mapped: %s", f, why)
	}
	return validPath(f)
}

// validNamespace checks copy_unmapped_to: a field name under which the
// record's own keys are kept. Keys under event.* or related.* could
// overwrite what the pipeline sets or searches rely on.
func validNamespace(ns string) error {
	if err := validPath(ns); err != nil {
		return err
	}
	top, _, _ := strings.Cut(ns, ".")
	if top == "event" || top == "related" || ns == "@timestamp" {
		return fmt.Errorf("%q: keep unmapped keys under a vendor namespace (e.g. acme), not under %s", ns, top)
	}
	return nil
}

var errEmptyField = errors.New("the field name is empty")

func validPath(f string) error {
	if f == "" {
		return errEmptyField
	}
	for _, part := range strings.Split(f, ".") {
		if part == "" {
			return fmt.Errorf("%q is not a valid field name: it has an empty part (a leading, trailing or double dot)", f)
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return fmt.Errorf("%q is not a valid field name: use letters, digits, '_' and '-' in parts separated by dots (e.g. source.ip)", f)
			}
		}
	}
	return nil
}
