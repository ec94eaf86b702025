// Command mamori collects security logs, archives them raw, normalises them
// to ECS, and searches them. See `mamori help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes: search uses 1 for "no results", so every error is 2.
const (
	exitOK      = 0
	exitNoMatch = 1
	exitError   = 2
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the server: listeners, archive, processing, search API", runServe},
		{"import", "send log files to mamori (or into the local data directory)", runImport},
		{"search", "search events: mamori search [--since 15m] QUERY", runSearch},
		{"parse", "show the ECS documents mamori makes of log lines, offline", runParse},
		{"rules", "detection rules: list | validate FILE... | test [--rule ID] | run --from T --to T", runRules},
		{"alerts", "alerts: list [--status S] [--since D] | show ID | ack ID | resolve ID", runAlerts},
		{"token", "API tokens: create --user NAME [--role R] [--expires D] | list | revoke ID", runToken},
		{"passwd", "print a password hash for auth.users (reads the password from the terminal or stdin)", runPasswd},
		{"bench", "generate synthetic logs, load them through a real server, and measure", runBench},
		{"version", "print the version", runVersion},
		{"help", "list the commands, or `mamori help COMMAND`", nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitError
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "mamori: unknown command %q\n\n", name)
	usage(stderr)
	return exitError
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mamori — collect, archive, normalise and search security logs")
	fmt.Fprintln(w, "\nUsage: mamori COMMAND [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`mamori COMMAND -h` shows a command's flags. Documentation: docs/ in the source tree.")
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "mamori %s\n", version)
	return exitOK
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mamori %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// (`mamori search QUERY --since 1h`); everything after "--" is positional.
// It returns the positional arguments, and done with the exit code when the
// command should stop (help asked for, or a bad flag).
func parseFlags(fs *flag.FlagSet, args []string) (pos []string, done bool, code int) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, true, exitOK
			}
			return nil, true, exitError
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, false, 0
		}
		// flag.Parse consumed a "--" if what is left is shorter than what
		// follows the last flag it read.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), false, 0
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
