// Placeholder until the wiring lands.
int main() { return 0; }
