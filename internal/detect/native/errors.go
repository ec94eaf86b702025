package native

import "github.com/mamori-sec/mamori/internal/detect/ruleerr"

// Error is a problem in a native rule file, with its position; its Rule
// is the rule's id, and its Key the rule key the problem is about, for
// Parse to place it.
type Error = ruleerr.Error

// prefix leads every native error's message.
const prefix = "native"

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) { return ruleerr.As(err) }

// Errors splits an error Parse returned into its *Errors.
func Errors(err error) []*Error { return ruleerr.Errors(err, prefix) }
