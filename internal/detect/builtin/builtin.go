// Package builtin holds the rules mamori ships for its seed scenarios:
// firewall threats, endpoint malware, GuardDuty findings, CloudTrail,
// Google Workspace and Entra ID account abuse, and sshd brute force. They
// are embedded in the binary, written as Sigma where Sigma fits (loaded by
// internal/detect/sigma through the field tables) and as native rules
// (internal/detect/native) where a rule needs a threshold per group, a
// severity read from the event, or a bound set by the configuration. Each
// rule has positive and negative samples under samples/<rule id>/ (see
// CheckSamples).
//
// Wiring: take the rules once and load each kind into its engine, beside
// the user's rules:
//
//	set, err := builtin.Rules(builtin.Options{NGFWMinSeverity: "high"})
//	sigmaEngine, rejected := detect.New(append(userRules, set.Sigma...), detectOptions)
//	nativeEngine, rejected2 := native.New(set.Native, native.Options{})
//	matches := append(sigmaEngine.Evaluate(evs), nativeEngine.Evaluate(evs)...)
package builtin

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/detect/native"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
)

//go:embed rules samples
var files embed.FS

// FilePrefix starts the File of every built-in rule, to tell them from the
// user's rule files in reports (builtin:sigma/aws_iam_change.yml).
const FilePrefix = "builtin:"

// Options are the bounds of the built-in rules that the configuration may
// change. Zero values mean the defaults.
type Options struct {
	// NGFWMinSeverity is the lowest threat severity of PAN-OS THREAT and
	// FortiGate antivirus and IPS logs that raises an alert (default
	// medium). The alert's severity is the threat's own.
	NGFWMinSeverity sigma.Level
	// GuardDutyMinSeverity is the lowest GuardDuty finding severity that
	// raises an alert, on GuardDuty's 1-10 scale (default 7: High).
	GuardDutyMinSeverity float64
	// FailedLogins failed Google Workspace logins or Entra ID sign-ins of
	// one account within FailedLoginWindow raise an alert (default 10 in
	// 10 minutes).
	FailedLogins      int
	FailedLoginWindow time.Duration
	// SSHFailures failed sshd logins from one address, then a successful
	// one, within SSHWindow raise an alert (default 5 in 10 minutes).
	SSHFailures int
	SSHWindow   time.Duration
}

// Defaults are the bounds used for zero Options fields.
var defaults = Options{
	NGFWMinSeverity:      sigma.LevelMedium,
	GuardDutyMinSeverity: 7,
	FailedLogins:         10,
	FailedLoginWindow:    10 * time.Minute,
	SSHFailures:          5,
	SSHWindow:            10 * time.Minute,
}

// Defaults returns the options with every zero field set to its default.
func (o Options) Defaults() Options {
	if o.NGFWMinSeverity == "" {
		o.NGFWMinSeverity = defaults.NGFWMinSeverity
	}
	if o.GuardDutyMinSeverity == 0 {
		o.GuardDutyMinSeverity = defaults.GuardDutyMinSeverity
	}
	if o.FailedLogins == 0 {
		o.FailedLogins = defaults.FailedLogins
	}
	if o.FailedLoginWindow == 0 {
		o.FailedLoginWindow = defaults.FailedLoginWindow
	}
	if o.SSHFailures == 0 {
		o.SSHFailures = defaults.SSHFailures
	}
	if o.SSHWindow == 0 {
		o.SSHWindow = defaults.SSHWindow
	}
	return o
}

// Check reports options out of range.
func (o Options) Check() error {
	o = o.Defaults()
	var errs []error
	if o.NGFWMinSeverity.Rank() < 0 {
		errs = append(errs, fmt.Errorf("ngfw min severity %q: want informational, low, medium, high or critical", o.NGFWMinSeverity))
	}
	if o.GuardDutyMinSeverity < 0 || o.GuardDutyMinSeverity > 10 {
		errs = append(errs, fmt.Errorf("guardduty min severity %g: want 0 to 10", o.GuardDutyMinSeverity))
	}
	if o.FailedLogins < 1 || o.FailedLogins > native.MaxThreshold {
		errs = append(errs, fmt.Errorf("failed logins %d: want 1 to %d", o.FailedLogins, native.MaxThreshold))
	}
	if o.SSHFailures < 1 || o.SSHFailures > native.MaxThreshold {
		errs = append(errs, fmt.Errorf("ssh failures %d: want 1 to %d", o.SSHFailures, native.MaxThreshold))
	}
	for name, w := range map[string]time.Duration{"failed login window": o.FailedLoginWindow, "ssh window": o.SSHWindow} {
		if w < 0 || w > native.MaxWindow {
			errs = append(errs, fmt.Errorf("%s %s: want up to 31 days", name, w))
		}
	}
	return errors.Join(errs...)
}

// Set is the built-in rules, ready for the engines.
type Set struct {
	// Sigma are the Sigma rules (detections and correlations), for the
	// Sigma engine (detect.New), in file order.
	Sigma []*sigma.Rule
	// Native are the native rules, for native.New.
	Native []*native.Rule
}

// IDs of the rules whose bounds Options set.
const (
	idPanosThreat    = "mamori-panos-threat"
	idFortigateVirus = "mamori-fortigate-virus"
	idFortigateIPS   = "mamori-fortigate-ips"
	idGuardDuty      = "mamori-guardduty-high-severity"
	idGWSBurst       = "mamori-gws-failed-login-burst"
	idAzureBurst     = "mamori-azure-failed-signin-burst"
	idSSHBruteforce  = "mamori-sshd-bruteforce"
	idSSHThenSuccess = "mamori-sshd-bruteforce-then-success"
)

// Rules parses the built-in rules and applies the options' bounds. An
// error means the options are out of range or (a build bug, which the
// package's tests catch) a shipped rule does not parse.
func Rules(opts Options) (*Set, error) {
	if err := opts.Check(); err != nil {
		return nil, fmt.Errorf("builtin rules: %w", err)
	}
	opts = opts.Defaults()
	set := &Set{}
	sigmaFiles, err := ruleFiles("rules/sigma")
	if err != nil {
		return nil, err
	}
	for _, f := range sigmaFiles {
		data, err := files.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("builtin rules: %w", err)
		}
		rules, err := sigma.Parse(FilePrefix+f[len("rules/"):], data)
		if err != nil {
			return nil, fmt.Errorf("builtin rules: %w", err)
		}
		set.Sigma = append(set.Sigma, rules...)
	}
	nativeFiles, err := ruleFiles("rules/native")
	if err != nil {
		return nil, err
	}
	for _, f := range nativeFiles {
		data, err := files.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("builtin rules: %w", err)
		}
		rules, err := native.Parse(FilePrefix+f[len("rules/"):], data)
		if err != nil {
			return nil, fmt.Errorf("builtin rules: %w", err)
		}
		set.Native = append(set.Native, rules...)
	}
	if err := apply(set, opts); err != nil {
		return nil, fmt.Errorf("builtin rules: %w", err)
	}
	return set, nil
}

// apply sets the bounds Options give on the rules they concern, and
// checks that every such rule is there.
func apply(set *Set, o Options) error {
	found := map[string]bool{}
	for _, r := range set.Native {
		switch r.ID {
		case idPanosThreat, idFortigateVirus, idFortigateIPS:
			r.MinSeverity = o.NGFWMinSeverity
		case idGuardDuty:
			// The bound is in the query, so that the rule reads as
			// GuardDuty's own scale rather than as mamori's levels.
			r.Query = "aws.guardduty.severity.code:>=" + strconv.FormatFloat(o.GuardDutyMinSeverity, 'f', -1, 64) +
				" AND NOT aws.guardduty.service.archived:true"
		case idGWSBurst, idAzureBurst:
			r.Threshold = o.FailedLogins
			r.Window = o.FailedLoginWindow
		default:
			continue
		}
		found[r.ID] = true
		if err := r.Check(); err != nil {
			return err
		}
	}
	for _, r := range set.Sigma {
		switch r.ID {
		case idSSHBruteforce:
			r.Correlation.Condition = sigma.Threshold{Min: int64(o.SSHFailures), Text: "gte " + strconv.Itoa(o.SSHFailures)}
			r.Correlation.Timespan = o.SSHWindow
		case idSSHThenSuccess:
			r.Correlation.Timespan = o.SSHWindow
		default:
			continue
		}
		found[r.ID] = true
	}
	for _, id := range []string{idPanosThreat, idFortigateVirus, idFortigateIPS, idGuardDuty, idGWSBurst, idAzureBurst, idSSHBruteforce, idSSHThenSuccess} {
		if !found[id] {
			return fmt.Errorf("rule %s, which the options set, is missing", id)
		}
	}
	return nil
}

// ruleFiles lists the .yml files of an embedded folder in name order.
func ruleFiles(dir string) ([]string, error) {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("builtin rules: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && path.Ext(e.Name()) == ".yml" {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// RuleFile returns the text of a built-in rule file by the File its rules
// carry (builtin:sigma/aws_iam_change.yml), for `mamori rules` to show.
func RuleFile(file string) ([]byte, bool) {
	rel, ok := strings.CutPrefix(file, FilePrefix)
	if !ok {
		return nil, false
	}
	data, err := files.ReadFile("rules/" + rel)
	return data, err == nil
}
