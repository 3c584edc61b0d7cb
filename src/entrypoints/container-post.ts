import { run } from '../container/post.js';

await run();
