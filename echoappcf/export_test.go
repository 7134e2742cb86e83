package echoappcf

import "io"

// CloseEchoApp closes the Device Manager client that EchoApp made and keeps
// for the function's life, so that a test of the entry point leaves no
// goroutine behind. Call it only after EchoApp ran.
func CloseEchoApp() error {
	app, err := theApp()
	if err != nil {
		return nil //nolint:nilerr // nothing was made, nothing to close
	}
	if c, ok := app.Client.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
