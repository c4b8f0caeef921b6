package mysqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// column is a column the statements use, with its type as
// information_schema spells it: the DDL in the package doc. An id must
// hold the longest id a Store is given, 70 bytes.
type column struct {
	name, typ, want string
	minLen          int64
}

var columns = []column{
	{"id", "varbinary", "varbinary(255)", 70}, {"state", "tinyint", "tinyint", 0},
	{"expires_at", "bigint", "bigint", 0}, {"data", "json", "json", 0},
}

const sqlColumns = `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IFNULL(CHARACTER_MAXIMUM_LENGTH, 0)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`

// sqlJSONCheck counts the check that makes MariaDB's JSON column, a
// LONGTEXT, hold JSON only.
const sqlJSONCheck = "SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS " +
	"WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CHECK_CLAUSE = 'json_valid(`data`)'"

// foundColumn is a column of the table as the server describes it.
type foundColumn struct {
	typ, display string
	length       int64
}

// checkColumns refuses a table whose columns are not of the documented
// types. A table made by a migration with, say, VARCHAR for the id (whose
// collation may fold case, so that two ids meet) or INT for the expiry
// (which overflows) would fail later or keep working with other semantics;
// New says so once, naming the column. The check reads types only: a
// column that takes NULL is accepted, and a NULL reads as a corrupt row. A
// table that does not exist is left to the statements.
func (s *Store) checkColumns(ctx context.Context, mariadb bool) error {
	found, err := s.columns(ctx, mariadb)
	if err != nil || len(found) == 0 {
		return err
	}
	for _, c := range columns {
		got, ok := found[c.name]
		switch {
		case !ok:
			return fmt.Errorf("mysqlstore: table %s: column %s is missing (see the DDL in the package doc)", s.opts.table, c.name)
		case got.typ != c.typ || got.length < c.minLen:
			return fmt.Errorf("mysqlstore: table %s: column %s is %s, want %s (see the DDL in the package doc)", s.opts.table, c.name, got.display, c.want)
		}
	}
	return nil
}

// columns describes each column of the table. On MariaDB a JSON column is
// a LONGTEXT with a check that its text is JSON.
func (s *Store) columns(ctx context.Context, mariadb bool) (map[string]foundColumn, error) {
	found, err := s.readColumns(ctx)
	if err != nil || !mariadb || found["data"].typ != "longtext" {
		return found, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, sqlJSONCheck, s.opts.table).Scan(&n); err != nil {
		return nil, fmt.Errorf("mysqlstore: reading the checks of %s: %w", s.opts.table, err)
	}
	if n > 0 {
		found["data"] = foundColumn{typ: "json", display: "json"}
	} else {
		found["data"] = foundColumn{typ: "longtext", display: "longtext without CHECK (json_valid(`data`))"}
	}
	return found, nil
}

func (s *Store) readColumns(ctx context.Context) (map[string]foundColumn, error) {
	rows, err := s.db.QueryContext(ctx, sqlColumns, s.opts.table)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: reading the columns of %s: %w", s.opts.table, err)
	}
	defer rows.Close()
	found := map[string]foundColumn{}
	for rows.Next() {
		var name string
		var c foundColumn
		var columnType sql.NullString
		if err := rows.Scan(&name, &c.typ, &columnType, &c.length); err != nil {
			return nil, fmt.Errorf("mysqlstore: reading the columns of %s: %w", s.opts.table, err)
		}
		c.display = c.typ
		if c.length > 0 && c.typ != "text" && c.typ != "longtext" && c.typ != "mediumtext" && c.typ != "tinytext" {
			c.display = columnType.String
		}
		found[name] = c
	}
	return found, rows.Err()
}
