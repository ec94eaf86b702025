package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mamori-sec/mamori/internal/app"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/pipeline"
)

func runParse(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("parse", "[--dataset NAME] [FILE...]", stderr)
	dsName := fs.String("dataset", "", "dataset of the input (default: recognise each line)")
	cfgPath := fs.String("config", "", "configuration file (for the time zone of zone-less timestamps)")
	files, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	cfg, err := config.Load(*cfgPath)
	if err == nil {
		err = cfg.Finish()
	}
	if err != nil {
		fmt.Fprintf(stderr, "mamori parse: %v\n", err)
		return exitError
	}
	reg, err := app.Registry(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mamori parse: %v\n", err)
		return exitError
	}
	var fixed *dataset.Dataset
	if *dsName != "" {
		ds, ok := reg.Lookup(*dsName)
		if !ok {
			fmt.Fprintf(stderr, "mamori parse: unknown dataset %q; known: %v\n", *dsName, reg.Names())
			return exitError
		}
		fixed = &ds
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	out := bufio.NewWriterSize(stdout, 256<<10)
	defer out.Flush()
	failures := 0
	for _, path := range files {
		in, err := openInput(path, os.Stdin)
		if err != nil {
			fmt.Fprintf(stderr, "mamori parse: %v\n", err)
			return exitError
		}
		key := "parse/" + path
		var index int64
		now := time.Now()
		err = eachLine(in, func(line []byte) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			ds := fixed
			if ds == nil {
				d, ok := reg.Detect(line)
				if !ok {
					return fmt.Errorf("no dataset recognises line %d", index+1)
				}
				ds = &d
			}
			events, failed := pipeline.Normalize(*ds, dataset.Record{Data: line, Received: now}, key, index, now)
			if failed {
				failures++
			}
			index++
			for _, e := range events {
				b, err := e.MarshalJSON()
				if err != nil {
					return err
				}
				out.Write(b)
				out.WriteByte('\n')
			}
			return nil
		})
		in.Close()
		if err != nil {
			fmt.Fprintf(stderr, "mamori parse: %s: %v\n", path, err)
			return exitError
		}
	}
	if failures > 0 {
		fmt.Fprintf(stderr, "mamori parse: %d record(s) failed to parse (kept with error.message)\n", failures)
	}
	return exitOK
}
