module github.com/ratchet-go/ratchet/caching

go 1.26.0

require (
	github.com/hashicorp/golang-lru/v2 v2.0.7
	go.uber.org/goleak v1.3.0
)
