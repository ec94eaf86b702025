package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/config"
)

// TestOpenAPIBeyondLoopbackWarns: a server reachable beyond loopback with
// no users says loudly that anyone may use it; on loopback it does not.
func TestOpenAPIBeyondLoopbackWarns(t *testing.T) {
	for _, tc := range []struct {
		addr string
		warn bool
	}{{"0.0.0.0:8514", true}, {"192.0.2.5:8514", true}, {"127.0.0.1:8514", false}, {"[::1]:8514", false}} {
		var logs bytes.Buffer
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.HTTP.Address = tc.addr
		if err := cfg.Finish(); err != nil {
			t.Fatal(err)
		}
		a := &App{Config: cfg, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: time.Now}
		srv := &api.Server{}
		var wg sync.WaitGroup
		if err := a.secureAPI(context.Background(), srv, &wg); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "NO AUTHENTICATION"); got != tc.warn {
			t.Errorf("%s: warned %v, want %v: %s", tc.addr, got, tc.warn, logs.String())
		}
		if srv.Auth == nil || srv.Auth.Enabled() {
			t.Errorf("%s: auth %+v", tc.addr, srv.Auth)
		}
	}
}
