package dataset

import (
	"path"
	"strings"
)

// MatchKey reports whether an archive key matches a pattern. Patterns are
// slash-separated; each segment is a path.Match pattern ("*.json.gz"),
// and a "**" segment matches any number of segments, so a layout can be
// written from its documented shape and still match under any prefix the
// operator chose ("**/AWSLogs/*/CloudTrail/**").
func MatchKey(pattern, key string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(key, "/"))
}

func matchSegments(pat, key []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(key); i++ {
				if matchSegments(rest, key[i:]) {
					return true
				}
			}
			return false
		}
		if len(key) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], key[0]); err != nil || !ok {
			return false
		}
		pat, key = pat[1:], key[1:]
	}
	return len(key) == 0
}
