package jsontree

// SnakeCase turns a member name ("userPrincipalName", "APK_SHA256_HASH",
// "User-Agent", "@odata.type") into an ECS-style field name segment
// ("user_principal_name", "apk_sha256_hash", "user_agent", "odata_type"):
// lower case, words joined by "_", nothing that would nest. A name that
// is already so is returned as it is, without allocating.
func SnakeCase(s string) string {
	if isSnake(s) {
		return s
	}
	b := make([]byte, 0, len(s)+4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUpper(c):
			// A word starts at an upper-case letter after a lower-case
			// letter or digit ("ipAsn"), or at the last capital of an
			// acronym followed by a word ("MFAPassed").
			if len(b) > 0 && b[len(b)-1] != '_' {
				prev := s[i-1]
				nextLower := i+1 < len(s) && isLower(s[i+1])
				if isLower(prev) || isDigit(prev) || isUpper(prev) && nextLower {
					b = append(b, '_')
				}
			}
			b = append(b, c+'a'-'A')
		case isLower(c) || isDigit(c):
			b = append(b, c)
		default:
			if len(b) > 0 && b[len(b)-1] != '_' {
				b = append(b, '_')
			}
		}
	}
	for len(b) > 0 && b[len(b)-1] == '_' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// isSnake reports a non-empty name of lower-case letters, digits and "_".
func isSnake(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
