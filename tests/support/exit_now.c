/* A static program that exits with status 0 at once: no dynamic loader, nothing before exit, the
 * shortest life a process can have. The hard case for naming by /proc. */
int main(void) { return 0; }
