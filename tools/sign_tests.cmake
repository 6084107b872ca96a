# CLI tests of warden sign / verify (filled in with the signature work).
