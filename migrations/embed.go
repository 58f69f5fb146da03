// Package migrations holds the golang-migrate SQL files, embedded in the binary. Each
// module owns one PostgreSQL schema; file names say which: NNNNNN_<module>_<what>.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
