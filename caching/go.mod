module github.com/ratchet-go/ratchet/caching

go 1.26
