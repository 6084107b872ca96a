module warden.test/goguest

go 1.21
