package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/units"
)

const tokenSynopsis = `create --user NAME [--role ROLE] [--expires 90d] [--name LABEL] | list [--json] | revoke ID

  create    make an API token for a configured user (or, with --role ingest or metrics, for any
            sender's name) and print it once; only its hash is stored
  list      the tokens: id, label, user, role, state, expiry
  revoke    stop a token at once (it stays listed as revoked)

The commands work on the data directory's token file (DATA_DIR/auth/tokens.json), with the server
running or not: a running server sees changes at once. Each change is written to the audit log
(dataset mamori.audit). Flags --config FILE and --data DIR say which data directory.`

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "Usage: mamori token %s\n", tokenSynopsis)
		return exitError
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintf(stdout, "Usage: mamori token %s\n", tokenSynopsis)
		return exitOK
	case "create":
		return tokenCreate(ctx, args[1:], stdout, stderr)
	case "list", "ls":
		return tokenList(args[1:], stdout, stderr)
	case "revoke":
		return tokenRevoke(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "mamori token: unknown command %q\nUsage: mamori token %s\n", args[0], tokenSynopsis)
	return exitError
}

// actor names who runs a token command in the audit log.
func actor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return "cli:" + name
}

// auditTokenChange archives the audit record of a token change. A running
// server notices the change too and writes the same object (a named
// batch), so the record is indexed once, now or at the next start.
func auditTokenChange(ctx context.Context, cfg config.Config, t auth.Token, action string) error {
	arc, err := archive.Open(ctx, cfg.Archive.URL, archive.WithCompression(cfg.Archive.Compression))
	if err != nil {
		return fmt.Errorf("audit: open archive: %w", err)
	}
	defer arc.Close()
	_, b := auth.TokenAudit(t, action)
	if _, err := arc.Put(ctx, b); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("token create", "--user NAME [--role ROLE] [--expires 90d] [--name LABEL] [--config FILE] [--data DIR]", stderr)
	userName := fs.String("user", "", "the token's user: a configured user, or any name with --role ingest or metrics")
	role := fs.String("role", "", "narrow the token to a role: analyst, ingest (send logs only), metrics (/metrics only); default the user's role")
	expires := fs.String("expires", "90d", "lifetime (30d, 12h); 0 never expires")
	name := fs.String("name", "", "a label for the token (what uses it)")
	cfgPath := fs.String("config", "", "configuration file")
	dataDir := fs.String("data", "", "data directory (default from the configuration)")
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "mamori token create: %v\n", err)
		return exitError
	}
	if *userName == "" {
		return fail(errors.New("give --user NAME"))
	}
	ttl, err := units.ParseDuration(*expires)
	if err != nil || ttl < 0 {
		return fail(fmt.Errorf("--expires %q: want a duration such as 90d, or 0", *expires))
	}
	var r auth.Role
	if *role != "" {
		if r, err = auth.ParseRole(*role); err != nil {
			return fail(err)
		}
	}
	cfg, err := loadConfig(*cfgPath, *dataDir)
	if err != nil {
		return fail(err)
	}
	dir, err := auth.NewDirectory(cfg.Auth)
	if err != nil {
		return fail(fmt.Errorf("configuration is invalid:\n%w", err))
	}
	if err := dir.CheckTokenUser(*userName, r); err != nil {
		return fail(err)
	}
	store := auth.NewTokens(auth.TokenFile(cfg.DataDir), nil)
	t, secret, err := store.Create(auth.TokenSpec{User: *userName, Role: r, Name: *name, TTL: time.Duration(ttl), By: actor()})
	if err != nil {
		return fail(err)
	}
	if err := auditTokenChange(ctx, cfg, t, mamoriaudit.ActionTokenCreate); err != nil {
		fmt.Fprintf(stderr, "warning: %v (a running server records the change itself)\n", err)
	}
	fmt.Fprintln(stdout, secret)
	expiry := "never expires"
	if !t.Expires.IsZero() {
		expiry = "expires " + t.Expires.Format(time.RFC3339)
	}
	shown := string(t.Role)
	if shown == "" {
		shown = "the user's role"
	}
	fmt.Fprintf(stderr, "token %s for %s (%s), %s. It is shown only now: keep it in a secret store,\n"+
		"and give it to clients as %s or --token-file.\n", t.ID, t.User, shown, expiry, tokenEnv)
	if !dir.Enabled() {
		fmt.Fprintln(stderr, "note: no auth.users are configured, so the server asks for no token yet")
	}
	return exitOK
}

func tokenList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("token list", "[--json] [--config FILE] [--data DIR]", stderr)
	cfgPath := fs.String("config", "", "configuration file")
	dataDir := fs.String("data", "", "data directory (default from the configuration)")
	asJSON := fs.Bool("json", false, "print JSON (no secrets or hashes)")
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	cfg, err := loadConfig(*cfgPath, *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "mamori token list: %v\n", err)
		return exitError
	}
	list, err := auth.NewTokens(auth.TokenFile(cfg.DataDir), nil).List()
	if err != nil {
		fmt.Fprintf(stderr, "mamori token list: %v\n", err)
		return exitError
	}
	now := time.Now()
	type shown struct {
		ID        string    `json:"id"`
		Name      string    `json:"name,omitempty"`
		User      string    `json:"user"`
		Role      string    `json:"role,omitempty"`
		State     string    `json:"state"`
		Created   time.Time `json:"created"`
		CreatedBy string    `json:"created_by,omitempty"`
		Expires   time.Time `json:"expires,omitzero"`
		Revoked   time.Time `json:"revoked,omitzero"`
		RevokedBy string    `json:"revoked_by,omitempty"`
	}
	out := make([]shown, len(list))
	for i, t := range list {
		out[i] = shown{ID: t.ID, Name: t.Name, User: t.User, Role: string(t.Role), State: t.State(now),
			Created: t.Created, CreatedBy: t.CreatedBy, Expires: t.Expires, Revoked: t.Revoked, RevokedBy: t.RevokedBy}
	}
	if *asJSON {
		return printJSON(stdout, stderr, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(stderr, "no tokens")
		return exitNoMatch
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tROLE\tSTATE\tCREATED\tEXPIRES\tNAME")
	for _, t := range out {
		role, exp := t.Role, "never"
		if role == "" {
			role = "(user's)"
		}
		if !t.Expires.IsZero() {
			exp = t.Expires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, role, t.State,
			t.Created.UTC().Format(time.RFC3339), exp, oneLine(t.Name))
	}
	tw.Flush()
	return exitOK
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("token revoke", "[--config FILE] [--data DIR] ID", stderr)
	cfgPath := fs.String("config", "", "configuration file")
	dataDir := fs.String("data", "", "data directory (default from the configuration)")
	ids, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	if len(ids) != 1 {
		fmt.Fprintln(stderr, "mamori token revoke: give one token id (mamori token list)")
		return exitError
	}
	cfg, err := loadConfig(*cfgPath, *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "mamori token revoke: %v\n", err)
		return exitError
	}
	// A whole token pasted by mistake is revoked by its id, and not echoed.
	id := ids[0]
	if rest, ok := strings.CutPrefix(id, auth.TokenPrefix); ok && len(rest) > 16 {
		id = rest[:16]
	}
	store := auth.NewTokens(auth.TokenFile(cfg.DataDir), nil)
	before, err := store.List()
	if err != nil {
		fmt.Fprintf(stderr, "mamori token revoke: %v\n", err)
		return exitError
	}
	t, err := store.Revoke(id, actor())
	if err != nil {
		fmt.Fprintf(stderr, "mamori token revoke: %v\n", err)
		return exitError
	}
	already := false
	for _, b := range before {
		if b.ID == t.ID && !b.Revoked.IsZero() {
			already = true
		}
	}
	if already {
		fmt.Fprintf(stdout, "token %s was already revoked at %s\n", t.ID, t.Revoked.UTC().Format(time.RFC3339))
		return exitOK
	}
	if err := auditTokenChange(ctx, cfg, t, mamoriaudit.ActionTokenRevoke); err != nil {
		fmt.Fprintf(stderr, "warning: %v (a running server records the change itself)\n", err)
	}
	fmt.Fprintf(stdout, "token %s (%s) revoked\n", t.ID, t.User)
	return exitOK
}

func runPasswd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("passwd", "[--bcrypt [--cost N]]", stderr)
	useBcrypt := fs.Bool("bcrypt", false, "print a bcrypt hash instead of argon2id")
	cost := fs.Int("cost", 12, "bcrypt cost (with --bcrypt)")
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	pw, err := readPassword(os.Stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mamori passwd: %v\n", err)
		return exitError
	}
	var hash string
	if *useBcrypt {
		if len(pw) > 72 {
			fmt.Fprintln(stderr, "mamori passwd: bcrypt reads at most 72 bytes of a password: use argon2id (without --bcrypt)")
			return exitError
		}
		hash, err = auth.HashBcrypt(pw, *cost)
	} else {
		hash, err = auth.HashPassword(pw, auth.DefaultArgon2)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mamori passwd: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, hash)
	return exitOK
}

// readPassword asks for a password twice on a terminal, or reads the
// first line of stdin otherwise (echo pw | mamori passwd).
func readPassword(in *os.File, stderr io.Writer) (string, error) {
	fd := int(in.Fd())
	if term.IsTerminal(fd) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		if len(a) == 0 {
			return "", errors.New("empty password")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty password (give it on stdin, or run on a terminal)")
	}
	return line, nil
}
