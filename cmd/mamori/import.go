package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/mamori-sec/mamori/internal/app"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/intake"
)

// Imports are sent in pieces of this many records or bytes: one archive
// object (or one HTTP request) each.
const (
	importBatchRecords = 50000
	importBatchBytes   = 16 << 20
)

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("import", "[--server URL] --dataset NAME FILE... | --archive", stderr)
	server := fs.String("server", "", "send to this mamori server (default: work on the local data directory)")
	dsName := fs.String("dataset", "", "dataset of the files (see `mamori parse` for auto-detection)")
	cfgPath := fs.String("config", "", "configuration file (local mode)")
	dataDir := fs.String("data", "", "data directory (local mode; default from the configuration)")
	scanArchive := fs.Bool("archive", false, "process archive objects not yet processed (configured source prefixes and raw/)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (for performance work)")
	tokenFile := tokenFlag(fs)
	files, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	if !*scanArchive && (*dsName == "" || len(files) == 0) {
		fmt.Fprintln(stderr, "mamori import: give --dataset NAME and at least one FILE (or - for stdin), or --archive")
		return exitError
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		fmt.Fprintf(stderr, "mamori import: %v\n", err)
		return exitError
	}
	defer stopProfile()
	start := time.Now()
	var sum importSummary
	if *server != "" {
		var c *apiClient
		if c, err = newClient(*server, *tokenFile, 10*time.Minute); err == nil {
			err = importRemote(ctx, c, *dsName, files, *scanArchive, !*quiet, stderr, &sum)
		}
	} else {
		err = importLocal(ctx, *cfgPath, *dataDir, *dsName, files, *scanArchive, !*quiet, stderr, &sum)
	}
	secs := time.Since(start).Seconds()
	failures := "n/a (the server parses asynchronously; see mamori_events_failed_total)"
	if sum.failuresKnown {
		failures = strconv.FormatInt(sum.failures, 10)
	}
	fmt.Fprintf(stdout, "imported %d records, %d events, failures %s, %.1f s (%.0f records/s)\n",
		sum.records, sum.events, failures, secs, float64(sum.records)/max(secs, 1e-9))
	if err != nil {
		fmt.Fprintf(stderr, "mamori import: %v\n", err)
		return exitError
	}
	return exitOK
}

type importSummary struct {
	records, events, failures int64
	failuresKnown             bool
}

// readBatches reads the files and calls send with batches of records.
func readBatches(ctx context.Context, files []string, progress bool, stderr io.Writer, send func([]intake.Record) error) error {
	var total int64
	for _, f := range files {
		if f == "-" {
			continue
		}
		if st, err := os.Stat(f); err == nil {
			total += st.Size()
		}
	}
	var bar *progressbar.ProgressBar
	if progress && isTerminal(stderr) {
		bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetDescription("importing"),
			progressbar.OptionClearOnFinish())
		defer bar.Finish()
	}
	var batch []intake.Record
	size := 0
	var records int64
	started := time.Now()
	flush := func() error {
		records += int64(len(batch))
		if bar != nil {
			bar.Describe(fmt.Sprintf("%d records, %.0f records/s", records, float64(records)/time.Since(started).Seconds()))
		}
		if len(batch) == 0 {
			return nil
		}
		err := send(batch)
		batch, size = nil, 0
		return err
	}
	for _, path := range files {
		in, err := openInput(path, os.Stdin)
		if err != nil {
			return err
		}
		var n int64
		var rd io.Reader = in
		if bar != nil && path != "-" {
			rd = countingReader{r: in, n: &n}
		}
		now := time.Now()
		var last int64
		err = eachLine(rd, func(line []byte) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			batch = append(batch, intake.Record{Data: append([]byte(nil), line...), Received: now, Peer: "import:" + path})
			size += len(line)
			if len(batch) >= importBatchRecords || size >= importBatchBytes {
				if bar != nil {
					_ = bar.Add64(n - last)
					last = n
				}
				return flush()
			}
			return nil
		})
		in.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return flush()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func importLocal(ctx context.Context, cfgPath, dataDir, dsName string, files []string, scan, progress bool, stderr io.Writer, sum *importSummary) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if err := cfg.Finish(); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	applyGoMemoryLimit(cfg, logger)
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	sum.failuresKnown = true
	if dsName != "" {
		if _, ok := a.Datasets.Lookup(dsName); !ok {
			return fmt.Errorf("unknown dataset %q; known: %s", dsName, strings.Join(a.Datasets.Names(), ", "))
		}
	}
	if scan {
		if err := a.Recover(ctx); err != nil {
			return err
		}
		if _, err := a.Scanner.ScanSources(ctx); err != nil {
			return err
		}
	}
	if len(files) > 0 {
		err = readBatches(ctx, files, progress, stderr, func(recs []intake.Record) error {
			if err := a.Intake.Write(ctx, intake.Batch{Dataset: dsName, Listener: "import", Records: recs}); err != nil {
				return err
			}
			st, err := a.Drain(ctx)
			sum.records += st.Records
			sum.events += st.Events
			sum.failures += st.Failures
			return err
		})
		if err != nil {
			return err
		}
	}
	st, err := a.Drain(ctx)
	sum.records += st.Records
	sum.events += st.Events
	sum.failures += st.Failures
	return err
}

func importRemote(ctx context.Context, client *apiClient, dsName string, files []string, scan, progress bool, stderr io.Writer, sum *importSummary) error {
	if scan {
		resp, err := client.do(ctx, http.MethodPost, "/api/v1/archive/scan", nil, nil)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("archive scan: %w", answerError(resp, body))
		}
		fmt.Fprintf(stderr, "archive scan: %s\n", strings.TrimSpace(string(body)))
	}
	if len(files) == 0 {
		return nil
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	defer enc.Close()
	return readBatches(ctx, files, progress, stderr, func(recs []intake.Record) error {
		var raw bytes.Buffer
		for _, r := range recs {
			raw.Write(r.Data)
			raw.WriteByte('\n')
		}
		body := enc.EncodeAll(raw.Bytes(), nil)
		accepted, err := postBatch(ctx, client, "/api/v1/intake/"+url.PathEscape(dsName), body)
		sum.records += accepted
		sum.events += accepted
		return err
	})
}

// postBatch sends one zstd body, retrying while the server applies
// back-pressure (429/503 with Retry-After).
func postBatch(ctx context.Context, client *apiClient, path string, body []byte) (int64, error) {
	h := http.Header{"Content-Encoding": {"zstd"}, "Content-Type": {"application/x-ndjson"}}
	for attempt := 0; ; attempt++ {
		resp, err := client.do(ctx, http.MethodPost, path, bytes.NewReader(body), h)
		if err != nil {
			if attempt < 5 {
				sleep(ctx, time.Duration(attempt+1)*time.Second)
				continue
			}
			return 0, err
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			var r struct {
				Accepted int64 `json:"accepted"`
			}
			if err := json.Unmarshal(data, &r); err != nil {
				return 0, fmt.Errorf("intake response: %w", err)
			}
			return r.Accepted, nil
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			wait := 5 * time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(s) * time.Second
			}
			if err := sleep(ctx, wait); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("intake: %w", answerError(resp, data))
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
