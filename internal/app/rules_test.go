package app

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/config"
)

func TestLoadRulesNamesEveryRuleThatDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "good", "ssh.yml"), bruteForceRules)
	write(t, filepath.Join(dir, "good", "notes.txt"), "not a rule")
	write(t, filepath.Join(dir, "bad.yml"), `title: Typo
logsource: {product: linux, service: sshd}
detection:
    sel:
        message|contians: x
    condition: sel
---
title: Counts nothing loaded
correlation:
    type: event_count
    rules: no_such_rule
    group-by: [src_ip]
    timespan: 5m
    condition: {gte: 2}
`)
	book, err := LoadRules(config.Rules{}, SigmaFiles([]string{filepath.Join(dir, "good"), filepath.Join(dir, "*.yml")}))
	if err != nil {
		t.Fatal(err)
	}
	if book.Report.Files != 2 || book.Report.Loaded != 4 || book.Report.Active != 4 || len(book.Report.Rejected) != 2 {
		t.Fatalf("report: %d files, %d loaded, %d active, rejected %v", book.Report.Files, book.Report.Loaded, book.Report.Active, book.Report.Rejected)
	}
	err = book.RejectedError()
	if err == nil {
		t.Fatal("no error for rejected rules")
	}
	for _, want := range []string{"bad.yml:5", `unknown modifier "contians"`, "bad.yml:8", `"Counts nothing loaded"`, "no_such_rule"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if got := book.ActiveDatasets(); len(got) != 1 || got[0] != "linux.syslog" {
		t.Errorf("active datasets %v", got)
	}
	sum := book.Summary()
	if len(sum.Rules) != 4 || len(sum.Rejected) != 2 || sum.Rules[3].Ref != bruteForceID || !sum.Rules[3].Emits || sum.Rules[0].Emits {
		t.Errorf("summary %+v", sum)
	}
}

func TestLoadRulesFailsOnPathsThatNameNothing(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{filepath.Join(dir, "missing.yml"), filepath.Join(dir, "*.yml")} {
		if _, err := LoadRules(config.Rules{}, SigmaFiles([]string{p})); err == nil {
			t.Errorf("%s: no error", p)
		}
	}
	if _, err := LoadRules(config.Rules{FieldMappings: []string{filepath.Join(dir, "nope.yaml")}}); err == nil {
		t.Error("missing field mapping file: no error")
	}
}

func TestSamplesBesideRuleFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ssh.yml"), bruteForceRules)
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	pos := strings.Join(bruteForce("192.0.2.60", start), "\n")
	write(t, filepath.Join(dir, "ssh.positive.log"), pos)
	// Four failures are not a brute force.
	write(t, filepath.Join(dir, "ssh.negative.linux.syslog.log"), strings.Join(append(bruteForce("192.0.2.61", start)[:4], bruteForce("192.0.2.61", start)[5]), "\n"))
	reg, err := Registry(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	book, err := LoadRules(config.Rules{}, SigmaFiles([]string{dir}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := book.TestSamples(reg, "", start)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Failed() != 0 {
		t.Fatalf("results %+v", rep.Results)
	}
	for _, r := range rep.Results {
		positive := strings.HasSuffix(r.Sample.File, "ssh.positive.log")
		ds := "linux.syslog"
		if positive {
			ds = ""
		}
		if r.Events == 0 || len(r.Rules) != 1 || r.Rules[0] != "Brute force then login" ||
			r.Sample.Positive != positive || r.Sample.Dataset != ds {
			t.Errorf("result %+v", r)
		}
	}

	// A negative sample on which the rule fires fails, naming the line.
	write(t, filepath.Join(dir, "ssh.negative.log"), "\n"+pos)
	rep, err = book.TestSamples(reg, bruteForceID, start)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() != 1 {
		t.Fatalf("results %+v", rep.Results)
	}
	for _, r := range rep.Results {
		if strings.HasSuffix(r.Sample.File, "ssh.negative.log") &&
			(len(r.Failures) != 1 || !strings.Contains(r.Failures[0], `"Brute force then login" fired (on line 7)`)) {
			t.Errorf("failures %v", r.Failures)
		}
	}
	if _, err := book.TestSamples(reg, "nope", start); !errors.Is(err, api.ErrUnknownRule) {
		t.Errorf("unknown rule: %v", err)
	}
}
