package query

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// RegisterFunctions registers the SQL functions that compiled queries call:
// ip_in_cidr(ip VARCHAR, cidr VARCHAR) BOOLEAN, true when ip is an address
// inside the CIDR (false for text that is not an address, NULL for NULL).
// DuckDB keeps the function in the database's catalog, so one call serves
// every connection to that database.
func RegisterFunctions(ctx context.Context, conn *sql.Conn) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("register query functions: %w", err)
	}
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return fmt.Errorf("register ip_in_cidr: %w", err)
	}
	boolean, err := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	if err != nil {
		return fmt.Errorf("register ip_in_cidr: %w", err)
	}
	f := &ipInCIDR{config: duckdb.ScalarFuncConfig{
		InputTypeInfos: []duckdb.TypeInfo{varchar, varchar},
		ResultTypeInfo: boolean,
	}}
	if err := duckdb.RegisterScalarUDF(conn, "ip_in_cidr", f); err != nil {
		return fmt.Errorf("register ip_in_cidr: %w", err)
	}
	return nil
}

type ipInCIDR struct {
	config duckdb.ScalarFuncConfig
}

func (f *ipInCIDR) Config() duckdb.ScalarFuncConfig { return f.config }

func (f *ipInCIDR) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: ipInCIDRChunk}
}

// ipInCIDRChunk evaluates one chunk (up to 2048 rows). DuckDB may run
// chunks on several threads at once, so the parsed CIDR is cached per
// chunk, in locals: the CIDR is a query argument, the same on every row,
// and is parsed once per chunk rather than once per row.
func ipInCIDRChunk(_ context.Context, st *duckdb.ChunkIteratorState) error {
	var (
		lastCIDR string
		prefix   netip.Prefix
		valid    bool
		parsed   bool
	)
	for row, err := range st.Rows() {
		if err != nil {
			return fmt.Errorf("ip_in_cidr: %w", err)
		}
		ip, _ := (*row.GetValuePtr(0)).(string)
		cidr, _ := (*row.GetValuePtr(1)).(string)
		if !parsed || cidr != lastCIDR {
			prefix, valid = parseCIDR(cidr)
			lastCIDR, parsed = cidr, true
		}
		if err := row.SetResult(valid && inPrefix(ip, prefix)); err != nil {
			return fmt.Errorf("ip_in_cidr: %w", err)
		}
	}
	return nil
}
