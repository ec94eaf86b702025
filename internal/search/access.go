package search

import (
	"context"
	"fmt"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/query"
)

// Access is what one reader may see, by dataset: "most staff can read
// almost all logs, except some". A nil *Access sees everything.
//
// Patterns are dataset names, a name followed by ".*" for a family
// (google_workspace.* is every google_workspace dataset), or "*".
type Access struct {
	// Allow lists the datasets the reader may see; empty means all.
	Allow []string
	// Deny lists datasets hidden from the reader even when Allow holds them.
	Deny []string
}

// CheckPattern reports whether p is a valid dataset pattern.
func CheckPattern(p string) error {
	if p == "" {
		return fmt.Errorf("empty dataset pattern")
	}
	name := strings.TrimSuffix(p, ".*")
	if p == "*" {
		return nil
	}
	if strings.ContainsAny(name, "*?\\ \t\"():") {
		return fmt.Errorf("dataset pattern %q: only a name, a name followed by .*, or * is allowed", p)
	}
	return nil
}

// matchPattern reports whether the dataset name matches pattern p.
func matchPattern(p, name string) bool {
	if p == "*" {
		return true
	}
	if fam, ok := strings.CutSuffix(p, ".*"); ok {
		return strings.HasPrefix(name, fam+".")
	}
	return p == name
}

// Sees reports whether the reader may see events of the dataset.
func (a *Access) Sees(dataset string) bool {
	if a == nil {
		return true
	}
	for _, p := range a.Deny {
		if matchPattern(p, dataset) {
			return false
		}
	}
	if len(a.Allow) == 0 {
		return true
	}
	for _, p := range a.Allow {
		if matchPattern(p, dataset) {
			return true
		}
	}
	return false
}

// All reports whether the reader sees every dataset, so that no query
// needs restricting.
func (a *Access) All() bool {
	if a == nil {
		return true
	}
	if len(a.Deny) > 0 {
		return false
	}
	for _, p := range a.Allow {
		if p == "*" {
			return true
		}
	}
	return len(a.Allow) == 0
}

// Restrict returns n limited to the datasets the reader may see. The
// restriction is part of the query itself, so that every way of reading
// events through the searcher (pages, counts, keyword scans, alert
// timelines) honours it alike.
func (a *Access) Restrict(n query.Node) query.Node {
	if a.All() {
		return n
	}
	var parts []query.Node
	if _, ok := n.(query.MatchAll); !ok {
		parts = append(parts, n)
	}
	if len(a.Allow) > 0 {
		parts = append(parts, datasetsNode(a.Allow))
	}
	if len(a.Deny) > 0 {
		parts = append(parts, &query.Not{Node: datasetsNode(a.Deny)})
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return &query.And{Nodes: parts}
}

// datasetsNode matches events of any dataset the patterns name.
func datasetsNode(patterns []string) query.Node {
	var or []query.Node
	for _, p := range patterns {
		switch fam, ok := strings.CutSuffix(p, ".*"); {
		case p == "*":
			or = append(or, &query.Exists{Field: event.FieldDataset})
		case ok:
			or = append(or, &query.Wildcard{Field: event.FieldDataset, Pattern: fam + ".*"})
		default:
			or = append(or, &query.Term{Field: event.FieldDataset, Value: p})
		}
	}
	if len(or) == 1 {
		return or[0]
	}
	return &query.Or{Nodes: or}
}

type accessKey struct{}

// WithAccess returns a context whose searches are limited to what a may
// see. The API puts the reader's access in each request's context, so that
// every search made on its behalf, however deep (an alert's timeline, a
// facet count), is limited alike.
func WithAccess(ctx context.Context, a *Access) context.Context {
	if a == nil {
		return ctx
	}
	return context.WithValue(ctx, accessKey{}, a)
}

// AccessFrom returns the access WithAccess put in ctx, or nil.
func AccessFrom(ctx context.Context) *Access {
	a, _ := ctx.Value(accessKey{}).(*Access)
	return a
}
