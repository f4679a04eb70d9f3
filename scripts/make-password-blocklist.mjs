// Writes packages/server/data/common-passwords.txt: a blocklist of common passwords (SEC-41).
// Not copied from any breach corpus: it is generated from the well-known *shapes* that head every
// published "most common passwords" list (a base word or keyboard walk, maybe capitalised, plus
// digits, a year or "!"), with base words written from memory of those lists. Deterministic:
// run `node scripts/make-password-blocklist.mjs` to regenerate. Passwords shorter than 8 code
// points are left out (the minimum length already refuses them).
import { writeFileSync } from 'node:fs';

const words = `password passw0rd p@ssword p@ssw0rd qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm zxcvbn azerty
letmein welcome welcome1 admin administrator root login master monkey dragon football baseball
basketball soccer hockey superman batman spiderman iloveyou loveyou princess sunshine shadow
michael jennifer jordan hunter ranger buster thomas robert daniel charlie andrew matthew joshua
jessica ashley amanda nicole michelle hannah summer winter autumn spring flower freedom trustno1
starwars pokemon computer internet secret changeme default guest access test tester testing
abc abcd abcdef abcdefg abcdefgh abc123 qazwsx qazwsxedc 1qaz2wsx zaq12wsx 1q2w3e4r 1q2w3e
q1w2e3r4 whatever nothing killer pepper cookie cheese chocolate banana orange apple mustang
ferrari porsche mercedes corvette harley yankees cowboys eagles lakers chelsea arsenal liverpool
barcelona madrid juventus google facebook instagram twitter youtube samsung iphone android
linkedin microsoft windows office company letmein1 hello hello123 helloworld goodbye lovely
loveme angel angels baby babygirl babyboy mylove forever family friends friend happy smile
purple yellow silver golden diamond crystal sparkle rainbow butterfly tigger snoopy scooby
mickey minnie garfield coffee pizza cookie123 marina natasha anastasia tatiana sergey dmitry
alexander alexandra victoria elizabeth christopher jonathan nicholas william richard joseph
charles david james john maria anna sophie emma olivia isabella mia ava emily madison
qwerty123 qwe123 asd123 zxc123 aa123456 a123456 a12345 abc12345 password1 password12 password123
iloveyou1 trustme letmeinnow passpass pass1234 mypassword yourpassword newpassword oldpassword
security secure server network system database backup manager support service office2020
zaq1zaq1 xsw2cde3 mnbvcxz poiuytrewq lkjhgfdsa 123qwe 123abc 147258369 159753 741852963
987654321 123456789 1234567890 0987654321 11111111 00000000 12341234 12344321 11223344
88888888 66666666 99999999 55555555 77777777 22222222 33333333 44444444 12121212 13131313
qweasdzxc qweasd asdasd asdfasdf qwerqwer zxczxc aaaaaaaa abcabc abcdabcd
sunflower moonlight starlight midnight blackcat whitecat doglover catlover horse unicorn
wizard merlin gandalf matrix neo morpheus ninja samurai warrior knight viking pirate
jesus christ god angel1 heaven blessed faith grace hope trinity
letmein! welcome! admin! qwerty! password!`.split(/\s+/).filter(Boolean);

const suffixes = ['', '1', '12', '123', '1234', '12345', '123456', '!', '1!', '123!', '01', '07', '69', '77', '88', '99', '00', '11', '13', '21', '22', '23', '2000', '2010', '2020', '2021', '2022', '2023', '2024', '2025', '2026', '1990', '1995', '1999', '@123', '#1', '_123', '.', '?'];

const out = new Set();
const add = (p) => {
  if ([...p].length >= 8) out.add(p.toLowerCase());
};
for (const w of words) {
  for (const s of suffixes) {
    add(w + s);
    add(w.replace(/o/g, '0').replace(/a/g, '@').replace(/e/g, '3').replace(/i/g, '1').replace(/s/g, '$') + s);
  }
  add(w + w);
  add(`${w}${w}1`);
}
for (let n = 1; n <= 9; n++) add(String(n).repeat(8));
for (let start = 0; start <= 9; start++) {
  let run = '';
  for (let i = 0; i < 12; i++) {
    run += String((start + i) % 10);
    add(run);
  }
}
const rows = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
for (const row of rows) {
  for (let len = 8; len <= row.length; len++) {
    add(row.slice(0, len));
    add([...row.slice(0, len)].reverse().join(''));
  }
}

const list = [...out].sort();
writeFileSync(new URL('../packages/server/data/common-passwords.txt', import.meta.url), `${list.join('\n')}\n`);
console.log(`${list.length} entries`);
