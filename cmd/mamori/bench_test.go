package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestBenchFlagsOfTheOtherMode(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "5000"}, "--rate needs --alert-latency"},
		{[]string{"--probe-every", "2s"}, "--probe-every needs --alert-latency"},
		{[]string{"--alert-latency", "--events", "1000"}, "--events does not apply to --alert-latency"},
		{[]string{"--alert-latency", "--config", "x.yml"}, "--config does not apply to --alert-latency"},
	} {
		var out, errOut bytes.Buffer
		if code := runBench(context.Background(), c.args, &out, &errOut); code != exitError || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("mamori bench %v: exit %d, %q; want %q", c.args, code, errOut.String(), c.want)
		}
	}
}
