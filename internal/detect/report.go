package detect

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Markdown renders the report as Markdown tables: totals, active rules by
// dataset, inactive rules by logsource and why, every rejected rule with
// its reason, the fields that have no table entry, and every active rule
// with its author (Sigma rules' licence asks that their attribution be
// shown with them). File names are shown relative to base.
func (r *Report) Markdown(base string) string {
	var b strings.Builder
	total := r.Total()
	inactive := r.Loaded - r.Active
	pct := func(n int) string {
		if total == 0 {
			return "0.0 %"
		}
		return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(total))
	}
	rel := func(p string) string {
		if base == "" {
			return p
		}
		if r, err := filepath.Rel(base, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	fmt.Fprintf(&b, "| | rules | share |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| found (in %d files) | %d | |\n", r.Files, total)
	fmt.Fprintf(&b, "| loaded (parsed and compiled) | %d | %s |\n", r.Loaded, pct(r.Loaded))
	fmt.Fprintf(&b, "| active (their logsource maps to a mamori dataset) | %d | %s |\n", r.Active, pct(r.Active))
	fmt.Fprintf(&b, "| inactive (loaded, no dataset for their logsource) | %d | %s |\n", inactive, pct(inactive))
	fmt.Fprintf(&b, "| rejected | %d | %s |\n", len(r.Rejected), pct(len(r.Rejected)))

	byDataset := map[string]int{}
	type inact struct{ logsource, why string }
	byLogsource := map[inact]int{}
	for _, info := range r.Rules {
		if info.Active {
			for _, d := range info.Datasets {
				byDataset[d]++
			}
			continue
		}
		byLogsource[inact{info.Rule.Logsource.String(), info.Inactive}]++
	}
	b.WriteString("\n**Active rules by dataset** (a rule may run on several):\n\n| dataset | rules |\n|---|---|\n")
	for _, d := range sortedKeys(byDataset) {
		fmt.Fprintf(&b, "| `%s` | %d |\n", d, byDataset[d])
	}
	b.WriteString("\n**Inactive rules by logsource:**\n\n| logsource | rules | why |\n|---|---|---|\n")
	var keys []inact
	for k := range byLogsource {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if byLogsource[keys[i]] != byLogsource[keys[j]] {
			return byLogsource[keys[i]] > byLogsource[keys[j]]
		}
		return keys[i].logsource < keys[j].logsource
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", k.logsource, byLogsource[k], k.why)
	}
	b.WriteString("\n**Rejected rules:**\n\n")
	if len(r.Rejected) == 0 {
		b.WriteString("none.\n")
	} else {
		b.WriteString("| file | rule | author | reason |\n|---|---|---|---|\n")
		for _, rj := range r.Rejected {
			loc := rel(rj.File)
			if rj.Line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, rj.Line)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", loc, cell(rj.Title), cell(rj.Author), cell(rj.Reason))
		}
	}
	b.WriteString("\n**Fields of active rules without a table entry**, and where they are looked up instead (the table's fallbacks, then the name itself):\n\n")
	listed := false
	for _, info := range r.Rules {
		if !info.Active || len(info.Unmapped) == 0 {
			continue
		}
		if !listed {
			b.WriteString("| rule | fields |\n|---|---|\n")
			listed = true
		}
		var parts []string
		for _, u := range info.Unmapped {
			parts = append(parts, fmt.Sprintf("`%s` → `%s`", u.Name, strings.Join(u.Fields, "`, `")))
		}
		fmt.Fprintf(&b, "| %s | %s |\n", cell(info.Rule.Title), strings.Join(parts, "; "))
	}
	if !listed {
		b.WriteString("none.\n")
	}
	b.WriteString("\n**Active rules:**\n\n| rule | level | datasets | author | file |\n|---|---|---|---|---|\n")
	for _, info := range r.Rules {
		if !info.Active {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` |\n", cell(info.Rule.Title), severity(info.Rule.Level),
			"`"+strings.Join(info.Datasets, "`, `")+"`", cell(info.Rule.Author), rel(info.Rule.File))
	}
	return b.String()
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.TrimSpace(s)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
