module github.com/ratchet-go/ratchet/config

go 1.26
