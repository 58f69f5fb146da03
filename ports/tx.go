package ports

import "context"

// Transactor runs a use case in one database transaction: every store called with
// the context fn receives joins it, so changes across modules commit together.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}
