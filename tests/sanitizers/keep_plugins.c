/* LD_PRELOAD shim for the multi-rank tests under AddressSanitizer (scripts/run-tests.sh,
 * stage 2): dlclose() does nothing, so the plugins Open MPI loads stay mapped until the
 * process exits. LeakSanitizer reports at exit; without this, the allocations made by
 * plugins that MPI_Finalize already unloaded show as "<unknown module>" and no
 * suppression can name them, so leak checking had to be off for every multi-rank test.
 * With the plugins mapped, each stack names its library and tests/sanitizers/lsan.supp
 * can suppress exactly the MPI runtime's, leaving hpool's own allocations checked. */
int dlclose(void *handle);

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
