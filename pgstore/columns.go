package pgstore

import (
	"context"
	"fmt"
	"strings"
)

// columnTypes is the type of each column the statements use, as
// format_type spells it: the DDL in the package doc.
var columnTypes = []struct{ name, typ string }{
	{"id", "text"}, {"state", "smallint"}, {"expires_at", "bigint"}, {"data", "jsonb"},
}

// sqlColumns lists the columns of the table named by $1 (quoted, as the
// statements name it), and none when there is no such table.
const sqlColumns = `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`

// checkColumns refuses a table whose columns are not of the documented
// types. A table made by a migration with, say, json for jsonb or integer
// for bigint would fail later, one request at a time, or worse keep
// working with other semantics (json keeps duplicate keys, an integer
// expiry overflows); New says so once, naming the column. The check reads
// types only: a column that takes NULL is accepted, and a NULL reads as a
// corrupt row. A table that does not exist is left to the statements.
func (s *Store) checkColumns(ctx context.Context, table string) error {
	found, err := s.columns(ctx, table)
	if err != nil || len(found) == 0 {
		return err
	}
	for _, c := range columnTypes {
		got, ok := found[c.name]
		switch {
		case !ok:
			return fmt.Errorf("pgstore: table %s: column %s is missing (see the DDL in the package doc)", s.opts.table, c.name)
		case got != c.typ:
			return fmt.Errorf("pgstore: table %s: column %s is %s, want %s (see the DDL in the package doc)", s.opts.table, c.name, got, c.typ)
		}
	}
	return nil
}

// columns returns the type of each column of table.
func (s *Store) columns(ctx context.Context, table string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, sqlColumns, table)
	if err != nil {
		return nil, fmt.Errorf("pgstore: reading the columns of %s: %w", s.opts.table, err)
	}
	defer rows.Close()
	found := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("pgstore: reading the columns of %s: %w", s.opts.table, err)
		}
		found[name] = strings.TrimSpace(typ)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: reading the columns of %s: %w", s.opts.table, err)
	}
	return found, nil
}
