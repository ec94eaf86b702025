package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/event"
)

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("search", "[--server URL] [--since 15m | --from T --to T] [--limit N] [--json] [--asc] QUERY", stderr)
	server := fs.String("server", "http://127.0.0.1:8514", "mamori server URL")
	since := fs.String("since", "", "only events newer than this (15m, 24h, 7d)")
	from := fs.String("from", "", "start of the time range (RFC 3339, a date, or now-1h)")
	to := fs.String("to", "", "end of the time range (exclusive)")
	limit := fs.Int("limit", 100, "most events to print")
	asJSON := fs.Bool("json", false, "print full ECS documents as NDJSON")
	asc := fs.Bool("asc", false, "oldest first (default newest first)")
	tokenFile := tokenFlag(fs)
	words, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	client, err := newClient(*server, *tokenFile, 5*time.Minute)
	if err != nil {
		fmt.Fprintf(stderr, "mamori search: %v\n", err)
		return exitError
	}
	if *limit < 1 {
		fmt.Fprintln(stderr, "mamori search: --limit must be at least 1")
		return exitError
	}
	q := strings.Join(words, " ")
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	printed := 0
	cursor := ""
	for printed < *limit {
		v := url.Values{}
		v.Set("q", q)
		v.Set("limit", strconv.Itoa(min(*limit-printed, 1000)))
		v.Set("count", "false")
		for k, val := range map[string]string{"since": *since, "from": *from, "to": *to, "cursor": cursor} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if *asc {
			v.Set("order", "asc")
		}
		page, err := fetchPage(ctx, client, "/api/v1/search?"+v.Encode())
		if err != nil {
			fmt.Fprintf(stderr, "mamori search: %v\n", err)
			return exitError
		}
		for _, e := range page.Events {
			if *asJSON {
				b, _ := e.MarshalJSON()
				out.Write(b)
				out.WriteByte('\n')
			} else {
				fmt.Fprintln(out, summaryLine(e))
			}
			printed++
		}
		if page.Next == "" || len(page.Events) == 0 {
			break
		}
		cursor = page.Next
	}
	if printed == 0 {
		return exitNoMatch
	}
	return exitOK
}

func fetchPage(ctx context.Context, client *apiClient, path string) (api.SearchResponse, error) {
	var page api.SearchResponse
	resp, err := client.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return page, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return page, answerError(resp, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return page, fmt.Errorf("decode search response: %w", err)
	}
	return page, nil
}

// summaryLine is one event as `@timestamp dataset host message`.
func summaryLine(e *event.Event) string {
	host := e.String("host.name")
	if host == "" {
		host = e.String("host.hostname")
	}
	if host == "" {
		host = "-"
	}
	msg := e.String(event.FieldMessage)
	if msg == "" {
		msg = e.String(event.FieldOriginal)
	}
	if errMsg := e.String(event.FieldError); errMsg != "" {
		msg = "[parse error: " + errMsg + "] " + msg
	}
	msg = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, msg)
	return fmt.Sprintf("%s %s %s %s", e.Time().Format(time.RFC3339Nano), e.String(event.FieldDataset), host, msg)
}
