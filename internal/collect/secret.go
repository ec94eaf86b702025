package collect

import (
	"bytes"
	"fmt"
	"os"
)

// ReadSecret returns a secret named in a config either by a file path or by
// the name of an environment variable, exactly one of which must be set.
// what names the secret in errors ("client secret"); the errors name the
// file or variable, never the value. Surrounding white space is removed, as
// files usually end with a newline.
func ReadSecret(what, file, env string) ([]byte, error) {
	switch {
	case file != "" && env != "":
		return nil, fmt.Errorf("%s: set either a file or an environment variable, not both", what)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil, fmt.Errorf("%s: file %s is empty", what, file)
		}
		return b, nil
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return nil, fmt.Errorf("%s: environment variable %s is not set", what, env)
		}
		b := bytes.TrimSpace([]byte(v))
		if len(b) == 0 {
			return nil, fmt.Errorf("%s: environment variable %s is empty", what, env)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("%s: not configured (give a file or an environment variable)", what)
	}
}
