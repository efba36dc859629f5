import { describe, expect, it } from 'vitest';
import { argvFromLines, splitCommand } from './argv';

describe('splitCommand', () => {
  it('splits as a shell would: quotes, escapes, nothing expanded', () => {
    expect(splitCommand(`sh -c 'echo "a b" > out.txt' --name "two words" it\\'s`)).toEqual({ argv: ['sh', '-c', 'echo "a b" > out.txt', '--name', 'two words', "it's"] });
    expect(splitCommand('echo $HOME *.ts')).toEqual({ argv: ['echo', '$HOME', '*.ts'] });
    expect(splitCommand('  ')).toEqual({ argv: [] });
    expect(splitCommand('make test # the comment')).toEqual({ argv: ['make', 'test'] });
  });

  it('refuses shell operators, saying to use sh -c', () => {
    expect(splitCommand('make && make test').error).toMatch(/'&&' is shell syntax.*sh -c/);
    expect(splitCommand('ls > x').error).toMatch(/'>' is shell syntax/);
  });

  it('one argument per line keeps each line as typed', () => {
    expect(argvFromLines('sh\n-c\necho  "x y" \n\n')).toEqual(['sh', '-c', 'echo  "x y" ']);
  });
});
