// SPDX-License-Identifier: GPL-2.0
/*
 * remcov_kmod: the remcov kernel lane's test module.
 *
 * Runs known, KCOV-instrumented code inside kcov_remote_start()/kcov_remote_stop()
 * sections, in several kernel contexts, on request from user space:
 *
 *   /sys/kernel/debug/remcov_kmod/ctl      write "<context> <handle>" (one command
 *                                          per write), e.g. "kthread usb:3"
 *   /sys/kernel/debug/remcov_kmod/targets  read: "<name> 0x<addr> 0x<size>" per
 *                                          target function
 *   /sys/kernel/debug/remcov_kmod/common_handle
 *                                          read: kcov_common_handle() of the reader
 *                                          (hex), for inheritance checks
 *   /sys/kernel/debug/remcov_kmod/stats    read: counters
 *
 * <context>:
 *   direct   run remcov_kmod_target_d() in the writer's own context, no remote
 *            section (local KCOV_ENABLE sees it)
 *   task     run remcov_kmod_target_d() in the writer's own context inside a
 *            remote section: kcov_remote_start_common() for "common" (the
 *            writer's inherited kcov_handle), kcov_remote_start() otherwise.
 *            The writer must not trace (the kernel WARNs and skips it)
 *   kthread  a fresh kernel thread runs target_a inside a remote section
 *   work     a work item on remcov_kmod's workqueue runs target_b inside a
 *            remote section; the write waits with flush_work()
 *   softirq  a tasklet (TASKLET_SOFTIRQ) runs target_c inside a remote section,
 *            started only if in_serving_softirq() (the 6.1
 *            kcov_remote_start_usb_softirq() logic, for any handle)
 *   timer    a timer (TIMER_SOFTIRQ) runs target_e, same softirq logic
 *   hold     a work item starts a remote section (target_b) and blocks in it;
 *            the write returns once the section has started (-EBUSY if one is
 *            already held)
 *   release  lets the held section finish (target_b again, kcov_remote_stop)
 *            and waits for it; the handle argument is ignored (-ENOENT if
 *            nothing is held). A held section is released after 10 s anyway.
 * <handle>:
 *   common       kcov_common_handle() read in the context of the triggering
 *                write (it is 0 in the worker, which does not inherit it)
 *   usb:<bus>    kcov_remote_handle(KCOV_SUBSYSTEM_USB, bus)
 *   raw:<hex>    that exact 64-bit value (must pass kcov_check_handle, or the
 *                kernel WARNs)
 *
 * Every write returns only after the section has ended (kcov_remote_stop() has
 * moved the coverage into the collector's buffer), or with -ETIMEDOUT after 10 s.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/debugfs.h>
#include <linux/kcov.h>
#include <linux/kthread.h>
#include <linux/workqueue.h>
#include <linux/interrupt.h>
#include <linux/timer.h>
#include <linux/completion.h>
#include <linux/uaccess.h>
#include <linux/kallsyms.h>
#include <linux/atomic.h>
#include <linux/mutex.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("remcov: KCOV remote-section test module");

#define REMCOV_WAIT (10 * HZ)

static struct dentry *remcov_dir;
static struct workqueue_struct *remcov_wq;
static DEFINE_MUTEX(remcov_lock);	/* one command at a time */
static atomic_t stat_sections[5];
static atomic_t stat_softirq_skipped;
static u64 last_handle;

/*
 * Targets: distinct, not inlined, not cloned, each with a few basic blocks that
 * depend on a runtime value, so KCOV records several PCs inside each one.
 */
static volatile unsigned long remcov_sink;

#define REMCOV_TARGET(name, k)                                              \
	noinline __attribute__((__noclone__)) unsigned long name(unsigned long x) \
	{                                                                   \
		unsigned long r = x * (k);                                  \
		if (x & 1)                                                  \
			r ^= 0x5a5a + (k);                                  \
		else                                                        \
			r += 0x1234 * (k);                                  \
		if (r > (k) * 1000)                                         \
			r -= (k);                                           \
		remcov_sink = r;                                            \
		return r;                                                   \
	}                                                                   \
	EXPORT_SYMBOL_GPL(name)

REMCOV_TARGET(remcov_kmod_target_a, 3);
REMCOV_TARGET(remcov_kmod_target_b, 5);
REMCOV_TARGET(remcov_kmod_target_c, 7);
REMCOV_TARGET(remcov_kmod_target_d, 11);
REMCOV_TARGET(remcov_kmod_target_e, 13);

static const struct {
	const char *name;
	unsigned long (*fn)(unsigned long);
} remcov_targets[] = {
	{ "remcov_kmod_target_a", remcov_kmod_target_a },
	{ "remcov_kmod_target_b", remcov_kmod_target_b },
	{ "remcov_kmod_target_c", remcov_kmod_target_c },
	{ "remcov_kmod_target_d", remcov_kmod_target_d },
	{ "remcov_kmod_target_e", remcov_kmod_target_e },
};

/* ---- one request ---- */
struct remcov_req {
	u64 handle;
	unsigned long arg;
	struct completion done;
	struct completion started;
	struct completion release;
	struct work_struct work;
	struct tasklet_struct tasklet;
	struct timer_list timer;
	bool started_in_softirq;
};

static int remcov_kthread_fn(void *data)
{
	struct remcov_req *req = data;

	kcov_remote_start(req->handle);
	remcov_kmod_target_a(req->arg);
	kcov_remote_stop();
	atomic_inc(&stat_sections[0]);
	complete(&req->done);
	return 0;
}

static void remcov_work_fn(struct work_struct *work)
{
	struct remcov_req *req = container_of(work, struct remcov_req, work);

	kcov_remote_start(req->handle);
	remcov_kmod_target_b(req->arg);
	kcov_remote_stop();
	atomic_inc(&stat_sections[1]);
	complete(&req->done);
}

static struct remcov_req *held_req;	/* under remcov_lock */

static void remcov_hold_fn(struct work_struct *work)
{
	struct remcov_req *req = container_of(work, struct remcov_req, work);

	kcov_remote_start(req->handle);
	remcov_kmod_target_b(req->arg);
	complete(&req->started);
	wait_for_completion_timeout(&req->release, REMCOV_WAIT);
	remcov_kmod_target_b(req->arg + 1);
	kcov_remote_stop();
	atomic_inc(&stat_sections[1]);
	complete(&req->done);
}

/* Called with remcov_lock held. */
static int remcov_release_held(void)
{
	struct remcov_req *req = held_req;

	if (!req)
		return -ENOENT;
	complete(&req->release);
	flush_work(&req->work);
	wait_for_completion(&req->done);
	held_req = NULL;
	kfree(req);
	return 0;
}

/* kcov_remote_start_usb_softirq() / kcov_remote_stop_softirq() of 6.1, for any handle. */
static void remcov_softirq_section(struct remcov_req *req,
				   unsigned long (*fn)(unsigned long), int idx)
{
	bool in_sirq = in_serving_softirq();

	if (in_sirq)
		kcov_remote_start(req->handle);
	else
		atomic_inc(&stat_softirq_skipped);
	fn(req->arg);
	if (in_sirq)
		kcov_remote_stop();
	req->started_in_softirq = in_sirq;
	atomic_inc(&stat_sections[idx]);
	complete(&req->done);
}

static void remcov_tasklet_fn(struct tasklet_struct *t)
{
	struct remcov_req *req = from_tasklet(req, t, tasklet);

	remcov_softirq_section(req, remcov_kmod_target_c, 2);
}

static void remcov_timer_fn(struct timer_list *t)
{
	struct remcov_req *req = from_timer(req, t, timer);

	remcov_softirq_section(req, remcov_kmod_target_e, 4);
}

static int remcov_parse_handle(const char *spec, u64 *out)
{
	unsigned int bus;
	unsigned long long raw;

	if (!strcmp(spec, "common")) {
		/* Must be read here, in the triggering system call's context. */
		*out = kcov_common_handle();
		return 0;
	}
	if (sscanf(spec, "usb:%u", &bus) == 1) {
		*out = kcov_remote_handle(KCOV_SUBSYSTEM_USB, bus);
		return 0;
	}
	if (sscanf(spec, "raw:%llx", &raw) == 1) {
		*out = raw;
		return 0;
	}
	return -EINVAL;
}

static ssize_t remcov_ctl_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	char buf[96], ctx[16], spec[48];
	struct remcov_req *req;
	struct task_struct *th;
	long left = 1;
	int ret = 0;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	spec[0] = 0;
	if (sscanf(buf, "%15s %47s", ctx, spec) < 1)
		return -EINVAL;

	if (!strcmp(ctx, "direct")) {
		remcov_kmod_target_d(len);
		atomic_inc(&stat_sections[3]);
		return len;
	}

	if (!strcmp(ctx, "release")) {
		mutex_lock(&remcov_lock);
		ret = remcov_release_held();
		mutex_unlock(&remcov_lock);
		return ret ? ret : len;
	}

	if (!strcmp(ctx, "task")) {
		u64 handle;

		ret = remcov_parse_handle(spec, &handle);
		if (ret)
			return ret;
		if (!strcmp(spec, "common"))
			kcov_remote_start_common(handle & KCOV_INSTANCE_MASK);
		else
			kcov_remote_start(handle);
		remcov_kmod_target_d(len);
		kcov_remote_stop();
		atomic_inc(&stat_sections[3]);
		return len;
	}

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	init_completion(&req->done);
	init_completion(&req->started);
	init_completion(&req->release);
	req->arg = len;
	ret = remcov_parse_handle(spec, &req->handle);
	if (ret)
		goto out;

	mutex_lock(&remcov_lock);
	last_handle = req->handle;
	if (!strcmp(ctx, "kthread")) {
		th = kthread_run(remcov_kthread_fn, req, "remcov_kthread");
		if (IS_ERR(th)) {
			ret = PTR_ERR(th);
			goto unlock;
		}
		left = wait_for_completion_timeout(&req->done, REMCOV_WAIT);
	} else if (!strcmp(ctx, "work")) {
		INIT_WORK(&req->work, remcov_work_fn);
		queue_work(remcov_wq, &req->work);
		flush_work(&req->work);
		left = wait_for_completion_timeout(&req->done, REMCOV_WAIT);
	} else if (!strcmp(ctx, "hold")) {
		if (held_req) {
			ret = -EBUSY;
			goto unlock;
		}
		INIT_WORK(&req->work, remcov_hold_fn);
		queue_work(remcov_wq, &req->work);
		wait_for_completion(&req->started);
		held_req = req;
		mutex_unlock(&remcov_lock);
		return len;	/* req now belongs to held_req */
	} else if (!strcmp(ctx, "softirq")) {
		tasklet_setup(&req->tasklet, remcov_tasklet_fn);
		tasklet_schedule(&req->tasklet);
		left = wait_for_completion_timeout(&req->done, REMCOV_WAIT);
		tasklet_kill(&req->tasklet);
	} else if (!strcmp(ctx, "timer")) {
		timer_setup(&req->timer, remcov_timer_fn, 0);
		mod_timer(&req->timer, jiffies + 1);
		left = wait_for_completion_timeout(&req->done, REMCOV_WAIT);
		del_timer_sync(&req->timer);
	} else {
		ret = -EINVAL;
		goto unlock;
	}
	if (!left) {
		/* The worker still references req: leak it rather than free it. */
		mutex_unlock(&remcov_lock);
		pr_err("remcov_kmod: '%s' timed out\n", ctx);
		return -ETIMEDOUT;
	}
	if ((!strcmp(ctx, "softirq") || !strcmp(ctx, "timer")) &&
	    !req->started_in_softirq)
		ret = -EAGAIN;	/* the callback did not run in softirq context */
unlock:
	mutex_unlock(&remcov_lock);
out:
	kfree(req);
	return ret ? ret : len;
}

static const struct file_operations remcov_ctl_fops = {
	.owner = THIS_MODULE,
	.write = remcov_ctl_write,
	.llseek = noop_llseek,
};

static ssize_t remcov_targets_read(struct file *file, char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	char *buf;
	size_t n = 0;
	ssize_t ret;
	int i;

	buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(remcov_targets); i++) {
		char sym[KSYM_SYMBOL_LEN];
		unsigned long size = 0;
		const char *slash;

		/* "name+0x0/0xsize [remcov_kmod]" */
		sprint_symbol(sym, (unsigned long)remcov_targets[i].fn);
		slash = strchr(sym, '/');
		if (!slash || sscanf(slash + 1, "0x%lx", &size) != 1)
			size = 0;
		n += scnprintf(buf + n, PAGE_SIZE - n, "%s 0x%lx 0x%lx\n",
			       remcov_targets[i].name,
			       (unsigned long)remcov_targets[i].fn, size);
	}
	ret = simple_read_from_buffer(ubuf, len, ppos, buf, n);
	kfree(buf);
	return ret;
}

static const struct file_operations remcov_targets_fops = {
	.owner = THIS_MODULE,
	.read = remcov_targets_read,
	.llseek = default_llseek,
};

static ssize_t remcov_common_read(struct file *file, char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	char buf[32];
	int n = scnprintf(buf, sizeof(buf), "0x%llx\n", kcov_common_handle());

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations remcov_common_fops = {
	.owner = THIS_MODULE,
	.read = remcov_common_read,
	.llseek = default_llseek,
};

static ssize_t remcov_stats_read(struct file *file, char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	char buf[256];
	int n = scnprintf(buf, sizeof(buf),
			  "kthread %d\nwork %d\nsoftirq %d\ndirect %d\ntimer %d\n"
			  "softirq_not_serving %d\nlast_handle 0x%llx\n",
			  atomic_read(&stat_sections[0]), atomic_read(&stat_sections[1]),
			  atomic_read(&stat_sections[2]), atomic_read(&stat_sections[3]),
			  atomic_read(&stat_sections[4]),
			  atomic_read(&stat_softirq_skipped), last_handle);

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations remcov_stats_fops = {
	.owner = THIS_MODULE,
	.read = remcov_stats_read,
	.llseek = default_llseek,
};

static int __init remcov_kmod_init(void)
{
	remcov_wq = alloc_workqueue("remcov_wq", WQ_UNBOUND, 4);
	if (!remcov_wq)
		return -ENOMEM;
	remcov_dir = debugfs_create_dir("remcov_kmod", NULL);
	if (IS_ERR(remcov_dir)) {
		destroy_workqueue(remcov_wq);
		return PTR_ERR(remcov_dir);
	}
	debugfs_create_file("ctl", 0200, remcov_dir, NULL, &remcov_ctl_fops);
	debugfs_create_file("targets", 0444, remcov_dir, NULL, &remcov_targets_fops);
	debugfs_create_file("common_handle", 0444, remcov_dir, NULL, &remcov_common_fops);
	debugfs_create_file("stats", 0444, remcov_dir, NULL, &remcov_stats_fops);
	pr_info("remcov_kmod: loaded\n");
	return 0;
}

static void __exit remcov_kmod_exit(void)
{
	debugfs_remove_recursive(remcov_dir);
	mutex_lock(&remcov_lock);
	remcov_release_held();
	mutex_unlock(&remcov_lock);
	destroy_workqueue(remcov_wq);
}

module_init(remcov_kmod_init);
module_exit(remcov_kmod_exit);
