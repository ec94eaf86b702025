package sigma

import (
	"fmt"

	"github.com/mamori-sec/mamori/internal/detect/ruleerr"
)

// Error is a problem in a rule file, with its position; its Rule is the
// rule's title or id when known.
type Error = ruleerr.Error

// prefix leads every sigma error's message.
const prefix = "sigma"

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) { return ruleerr.As(err) }

func errorAt(file string, line, col int, format string, args ...any) *Error {
	return &Error{Prefix: prefix, File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}
