go test fuzz v1
string("host.example.com")
