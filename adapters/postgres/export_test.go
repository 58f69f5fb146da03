package postgres

import "context"

// Later queues a statement in the transaction of ctx (DB.InTx), for the tests of Tx.
func Later(ctx context.Context, query string, args ...any) {
	ctx.Value(txKey{}).(*Tx).Later(query, args...)
}

// TxGet, TxExec and TxRow run a statement in the transaction of ctx.
func TxGet(ctx context.Context, dest any, query string, args ...any) error {
	return ctx.Value(txKey{}).(*Tx).GetContext(ctx, dest, query, args...)
}

func TxExec(ctx context.Context, query string, args ...any) error {
	_, err := ctx.Value(txKey{}).(*Tx).ExecContext(ctx, query, args...)
	return err
}

func TxRow(ctx context.Context, dest any, query string, args ...any) error {
	return ctx.Value(txKey{}).(*Tx).QueryRowxContext(ctx, query, args...).Scan(dest)
}

func TxSelect(ctx context.Context, dest any, query string, args ...any) error {
	return ctx.Value(txKey{}).(*Tx).SelectContext(ctx, dest, query, args...)
}
