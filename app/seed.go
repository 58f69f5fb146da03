package app

import (
	"context"
	"fmt"
	"io"

	"orderdesk/adapters/postgres"
	"orderdesk/modules/staff"
	"orderdesk/ports"
)

// DemoPassword is the password of the demo staff users that `seed demo` creates.
const DemoPassword = "demo-password"

// seedDemo loads the demo data: one staff user per role besides admin. Every module
// adds its own demo data here. Running it again changes nothing.
func seedDemo(ctx context.Context, cfg *Config, out io.Writer) error {
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := newStaffService(db)
	if err != nil {
		return err
	}
	ctx = ports.WithActor(ctx, ports.Actor{Kind: ports.ActorSystem, Name: "seed"})
	for _, r := range []staff.Role{staff.RoleManager, staff.RolePacker, staff.RoleAccountant, staff.RoleSupport} {
		name := "demo-" + string(r)
		_, err := svc.CreateUser(ctx, staff.NewUser{Username: name, DisplayName: "Demo " + string(r), Role: r, Password: DemoPassword}, false)
		switch {
		case err == nil:
			fmt.Fprintf(out, "demo staff user %s (%s), password %s\n", name, r, DemoPassword)
		case ports.ErrorCodeOf(err) == ports.EINVALID && len(ports.FieldErrorsOf(err)) == 1 && ports.FieldErrorsOf(err)[0].Field == "username":
			// already there
		default:
			return fmt.Errorf("seed %s: %w", name, err)
		}
	}
	fmt.Fprintln(out, "demo data loaded")
	return nil
}
