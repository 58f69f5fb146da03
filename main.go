// Command orderdesk is the OrderDesk binary: see `orderdesk help`.
package main

import (
	"os"

	"orderdesk/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
