// Package web is ltk's HTTP face on the master (port 8089 by default): the
// browser UI, a REST API compatible with Locust's web UI, ltk's own API under
// /api/, and Prometheus metrics on /metrics.
//
// The server drives a test through a [Controller], a small interface the
// master satisfies (the web package is its consumer, so it defines it). It
// never reaches into workers or stats merging itself.
//
// # History and live updates
//
// [Server.Run] owns one ticker (Config.Interval, 2 s by default). Every tick it
// takes one [stats.Snapshot] from the Controller and from it
//   - appends a [Point] to a bounded ring (Config.HistoryLen points: 6 hours
//     at 2 s by default), which /api/history serves, so charts survive a page
//     reload;
//   - builds the /stats/requests report once and pushes it, with the new
//     point, to every browser on the /api/events server-sent-event stream;
//   - updates the Prometheus metrics (see metrics.go).
//
// A browser therefore costs one history fetch on load and one open SSE
// stream, however many tabs it shows.
//
// # Compatibility with Locust
//
// POST /swarm, GET /stop, GET /stats/reset, GET /stats/requests,
// GET /stats/requests/csv, GET /stats/failures/csv, GET /exceptions and
// GET /stats/report take the parameters and return the JSON field names of
// Locust 2's web UI, so scripts written against Locust keep working. Bad
// input gets HTTP 400 and {"success": false, "message": "..."}.
package web
