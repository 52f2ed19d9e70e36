// Preloaded beside libfaketime when the tests run as if today were another day
// (ops/test.sh with TEST_TODAY). libfaketime moves the wall clock and translates
// pthread_cond_timedwait's deadlines, but not C11 cnd_timedwait's, which librdkafka uses: their
// absolute wall-clock deadlines, compared by the kernel with the real clock, would end months
// late, or at once. Each is moved back into real time before the wait.
//
// Nor timers on the clocks it leaves alone (CLOCK_MONOTONIC, CLOCK_BOOTTIME): its
// timerfd_settime moves their absolute deadlines by the wall clock's offset too, so
// libdispatch's timers, and with them every Task.sleep in Swift, never fired. Those go to the
// kernel unchanged.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static struct timespec to_real(const struct timespec *deadline) {
    struct timespec faked, real, moved;
    clock_gettime(CLOCK_REALTIME, &faked);                 // through libfaketime
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &real);     // the kernel's own
    long long offset = (faked.tv_sec - real.tv_sec) * 1000000000LL + (faked.tv_nsec - real.tv_nsec);
    long long target = deadline->tv_sec * 1000000000LL + deadline->tv_nsec - offset;
    moved.tv_sec = target / 1000000000LL;
    moved.tv_nsec = target % 1000000000LL;
    return moved;
}

int cnd_timedwait(cnd_t *restrict cond, mtx_t *restrict mutex, const struct timespec *restrict deadline) {
    static int (*next)(cnd_t *, mtx_t *, const struct timespec *);
    if (!next) next = dlsym(RTLD_NEXT, "cnd_timedwait");
    struct timespec real = to_real(deadline);
    return next(cond, mutex, &real);
}

// The clock of each timerfd this process made, by descriptor (plus one; zero is unknown).
static int timer_clocks[65536];

int timerfd_create(int clockid, int flags) {
    int fd = syscall(SYS_timerfd_create, clockid, flags);
    if (fd >= 0 && fd < 65536) timer_clocks[fd] = clockid + 1;
    return fd;
}

int timerfd_settime(int fd, int flags, const struct itimerspec *new_value, struct itimerspec *old_value) {
    static int (*next)(int, int, const struct itimerspec *, struct itimerspec *);
    if (!next) next = dlsym(RTLD_NEXT, "timerfd_settime");
    int clock = fd >= 0 && fd < 65536 ? timer_clocks[fd] - 1 : -1;
    if (clock == CLOCK_REALTIME || clock == -1) return next(fd, flags, new_value, old_value);
    return syscall(SYS_timerfd_settime, fd, flags, new_value, old_value);
}
