// Nothing to do yet: the check is the post step (see action.yml).
const file = process.env['INPUT_LEASE-FILE'] ?? '';
if (file.trim() === '') {
  console.log('::error::check-released: the lease-file input is required');
  process.exitCode = 1;
} else {
  console.log(
    `After the post steps of the later portlease steps, ${file} names leases that must be gone.`,
  );
}
