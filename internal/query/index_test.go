package query

import (
	"reflect"
	"slices"
	"testing"
)

func TestContainsWord(t *testing.T) {
	for _, tc := range []struct {
		text, term string
		want       bool
	}{
		{"user=Alice,", "alice", true},
		{"alice@example.com", "alice", true},
		{"malice", "alice", false},
		{"alices", "alice", false},
		{"Failed password for root", "failed password", true},
		{"src=10.0.0.10", "10.0.0.1", false},
		{"src=10.0.0.1:443", "10.0.0.1", true},
		{"/_vti_bin/owssvr.dll", "owssvr.dll", true},
		{"ÄLICE über", "über", true},
		{"süber", "über", false},
		{"x", "", true},
		{"a-b", "-b", true}, // a term starting with a joiner is not glued on that side
	} {
		if got := ContainsWord(tc.text, tc.term); got != tc.want {
			t.Errorf("ContainsWord(%q, %q) = %v, want %v", tc.text, tc.term, got, tc.want)
		}
	}
}

func TestMayMatchAndKeywords(t *testing.T) {
	present := map[string]bool{"alice": true, "ssh": true, "CVE-2021-44228": true}
	may := func(term, _ string) bool { return present[term] }
	for q, want := range map[string]bool{
		"alice":                        true,
		"bob":                          false,
		"alice AND bob":                false,
		"alice OR bob":                 true,
		"NOT alice":                    true, // a NOT cannot rule a block out
		"bob*":                         true, // nor a wildcard
		"ssh AND (bob OR alice)":       true,
		"ssh AND (bob OR carol)":       false,
		"source.ip:10.0.0.0/8 AND bob": false,
		// plain values of fields that are not promoted are asked about too
		`cef.extensions.cs1:"CVE-2021-44228"`: true,
		`cef.extensions.cs1:"CVE-1999-0001"`:  false,
		"cef.extensions.cnt:4":                true, // a number compares by value
		"source.nat.ip:10.0.0.0/8":            true, // a CIDR by containment
		"user.name:bob":                       true, // promoted: the SQL decides
	} {
		n, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := MayMatch(n, may); got != want {
			t.Errorf("MayMatch(%q) = %v, want %v", q, got, want)
		}
	}
	n, _ := Parse(`alice AND NOT bob AND (ssh OR "failed password") AND user.name:x AND carol*`)
	if got := Keywords(n); !reflect.DeepEqual(got, []string{"alice", "ssh", "failed password"}) {
		t.Errorf("Keywords = %q", got)
	}
	n, _ = Parse(`alice AND url.path:"/admin" AND source.port:22 AND x.n:5`)
	if got := IndexTerms(n, false); !reflect.DeepEqual(got, []string{"alice", "/admin"}) {
		t.Errorf("IndexTerms = %q", got)
	}
	n, _ = Parse(`host.name:web-01 AND source.ip:10.0.0.0/8 AND related.ip:192.0.2.1 AND NOT user.name:bob`)
	if got := IndexTerms(n, true); !reflect.DeepEqual(got, []string{"web-01", "192.0.2.1"}) {
		t.Errorf("IndexTerms(promoted) = %q", got)
	}
	if MayMatchPromoted(n, func(term, _ string) bool { return term != "web-01" }) {
		t.Error("MayMatchPromoted kept a block without the host")
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		q       string
		fields  []string
		keyword bool
	}{
		{`user.name:bob AND NOT (source.port:[1 TO 9] OR _exists_:error.message)`, []string{"user.name", "source.port", "error.message"}, false},
		{`host.name:web* alice`, []string{"host.name"}, true},
		{`pass*`, nil, true},
		{`*`, nil, false},
	}
	for _, tt := range tests {
		n, err := Parse(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		fields, keyword := Fields(n)
		if !slices.Equal(fields, tt.fields) || keyword != tt.keyword {
			t.Errorf("Fields(%q) = %v, %v; want %v, %v", tt.q, fields, keyword, tt.fields, tt.keyword)
		}
	}
}
