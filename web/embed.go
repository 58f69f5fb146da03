// Package web is OrderDesk's HTTP side: the Fiber application with its middleware,
// the health and metrics endpoints, and the mounting of the admin (package admin) and
// of the client API. Templates and static assets are embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates static
var embedded embed.FS

// Templates holds the admin's html/template files.
func Templates() fs.FS {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}

// Static holds the files served under /static.
func Static() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err)
	}
	return sub
}
